#![deny(warnings)]

use std::time::Duration;

use jobs_core::{recurring, JobError};

#[recurring(
    cron = "0 30 9 * * MON-FRI",
    id = "digest",
    retries = 1,
    backoff = "fixed",
    backoff_base = "30s",
    backoff_max = "5m",
    queue = "mail",
    priority = 10,
    timeout = "10m"
)]
async fn digest() -> Result<(), JobError> {
    Ok(())
}

#[recurring(cron = "0 0 * * * *", id = "hourly", delays = [5, 10])]
async fn hourly() {}

fn main() {
    let job = digest::definition();
    assert_eq!((job.queue, job.priority, job.unique), ("mail", 10, false));
    assert_eq!(job.timeout, Some(Duration::from_secs(600)));
    assert_eq!(job.retry.max_attempts(), 2);
    assert_eq!(job.retry.nominal_delay(2), Duration::from_secs(30));
    assert_eq!(hourly::definition().retry.nominal_delay(7), Duration::from_secs(10));
}
