use jobs_core::job;

#[job(version = "2")]
async fn send_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
