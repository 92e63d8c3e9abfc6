use std::time::Duration;

use jobs_core::{job, Client, EnqueueError, JobId};

#[job]
async fn send_welcome_email(user_id: i64, template: String) {
    let _ = (user_id, template);
}

async fn sign_up(client: &Client) -> Result<JobId, EnqueueError> {
    let _ = Duration::ZERO;
    send_welcome_email::enqueue(client, "42", "welcome".to_owned()).await
}

fn main() {
    let _ = sign_up;
}
