use jobs_core::job;

#[job(version = 0)]
async fn send_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
