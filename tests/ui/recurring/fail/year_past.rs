use jobs_core::recurring;

// June 2026: the only tick is past, so it would never run once deployed
#[recurring(cron = "0 0 12 1 6 * 2026", id = "launch-day")]
async fn launch_day() {}

fn main() {}
