use jobs_core::{recurring, Client, EnqueueError, JobId};

#[recurring(cron = "0 0 2 * * *", id = "nightly-report")]
async fn nightly_report() {}

async fn run_now(client: &Client) -> Result<JobId, EnqueueError> {
    nightly_report::trigger(client, 1).await
}

fn main() {
    let _ = run_now;
}
