use jobs_core::job;

#[job(queue = "mail", retries = 2, queue = "critical")]
async fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
