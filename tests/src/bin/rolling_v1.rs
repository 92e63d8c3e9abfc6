//! Build 1 of the program `tests/rolling_deploy.rs` deploys: the job
//! `rolling_send_email` at version 1, with one argument.

#[path = "../rolling/worker.rs"]
mod worker;

use std::time::Duration;

use jobs_core::{JobContext, State, job};

use crate::worker::RunLog;

#[job(name = "rolling_send_email")]
async fn send_email(log: State<RunLog>, ctx: JobContext, user_id: i64) {
    tokio::time::sleep(Duration::from_millis(10)).await;
    log.ran(&ctx, &format!("user={user_id}"));
}

#[tokio::main]
async fn main() {
    worker::run(1, send_email::NAME, |client, i| async move {
        send_email::enqueue(&client, i).await
    })
    .await;
}
