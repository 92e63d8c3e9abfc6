use jobs_core::job;

#[job(timeout = "5 minutes")]
async fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
