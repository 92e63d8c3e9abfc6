use jobs_core::job;

#[job(delays = [60, 120, 300], backoff = "linear")]
async fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
