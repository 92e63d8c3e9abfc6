use jobs_core::job;

#[job]
fn send_welcome_email(user_id: i64) {
    let _ = user_id;
}

fn main() {}
