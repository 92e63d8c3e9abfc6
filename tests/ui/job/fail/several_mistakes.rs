use jobs_core::job;

#[job(retries = -1, queue = "Mail", backoff_base = "1 second", unique = "yes", colour = "blue")]
async fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
