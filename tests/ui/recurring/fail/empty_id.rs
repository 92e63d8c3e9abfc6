use jobs_core::recurring;

#[recurring(cron = "0 0 2 * * *", id = "")]
async fn nightly_report() {}

fn main() {}
