use jobs_core::job;

#[job(backoff = "quadratic")]
async fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
