//! Build 2 of the program `tests/rolling_deploy.rs` deploys: the job
//! `rolling_send_email` at version 2, which added `locale`; its `upgrade`
//! fills it in for jobs build 1 stored. Its own jobs are enqueued ahead of
//! build 1's (priority -1), so a build 1 worker meets them first.

#[path = "../rolling/worker.rs"]
mod worker;

use std::time::Duration;

use jobs_core::{JobContext, State, job};

use crate::worker::RunLog;

#[job(name = "rolling_send_email", version = 2, upgrade = upgrade_send_email)]
async fn send_email(log: State<RunLog>, ctx: JobContext, user_id: i64, locale: String) {
    tokio::time::sleep(Duration::from_millis(10)).await;
    log.ran(&ctx, &format!("user={user_id},locale={locale}"));
}

fn upgrade_send_email(from: u32, mut args: serde_json::Value) -> Result<serde_json::Value, String> {
    if from < 2 {
        args["locale"] = "en".into();
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    worker::run(2, send_email::NAME, |client, i| async move {
        send_email::with(1_000 + i, "fr".to_owned())
            .priority(-1)
            .enqueue(&client)
            .await
    })
    .await;
}
