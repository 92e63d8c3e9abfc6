use jobs_core::recurring;

#[recurring(cron = "0 0 25 * * *", id = "nightly-report")]
async fn nightly_report() {}

fn main() {}
