use jobs_core::job;

#[job(cron = "0 0 2 * * *")]
async fn nightly_report() {}

fn main() {}
