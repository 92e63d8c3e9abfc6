use jobs_core::recurring;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report", concurrency = 1, concurrency_key = "day")]
async fn nightly_report() {}

fn main() {}
