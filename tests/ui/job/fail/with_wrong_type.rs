use jobs_core::{job, JobBuilder};

#[job]
async fn send_welcome_email(user_id: i64, template: String) {
    let _ = (user_id, template);
}

fn builder() -> JobBuilder {
    send_welcome_email::with(42, 'w').priority(-5)
}

fn main() {
    let _ = builder;
}
