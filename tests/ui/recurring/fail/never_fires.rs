use jobs_core::recurring;

#[recurring(cron = "0 0 0 30 2 *", id = "nightly-report")]
async fn nightly_report() {}

fn main() {}
