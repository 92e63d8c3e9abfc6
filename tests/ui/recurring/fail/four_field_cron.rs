use jobs_core::recurring;

#[recurring(cron = "0 2 * *", id = "nightly-report")]
async fn nightly_report() {}

fn main() {}
