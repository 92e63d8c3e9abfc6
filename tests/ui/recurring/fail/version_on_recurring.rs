use jobs_core::recurring;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report", version = 2)]
async fn nightly_report() {}

fn main() {}
