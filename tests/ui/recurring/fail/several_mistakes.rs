use jobs_core::recurring;

#[recurring(cron = "0 2 * * *", tz = "Berlin", misfire = "never", unique = true)]
async fn nightly_report() {}

fn main() {}
