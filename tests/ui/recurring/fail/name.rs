use jobs_core::recurring;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report", name = "report")]
async fn nightly_report() {}

fn main() {}
