#![deny(warnings)]

use jobs_core::cron::Misfire;
use jobs_core::{recurring, Client, EnqueueError, JobContext, JobId, State};

#[derive(Clone)]
struct App;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report", tz = "Europe/Berlin")]
async fn nightly_report(app: State<App>) -> anyhow::Result<()> {
    let _ = app;
    Ok(())
}

#[recurring(cron = "0 */15 * * * MON-FRI", id = "sync", misfire = "skip", tz = "America/New_York")]
async fn sync(ctx: JobContext) {
    let _ = ctx.id();
}

#[recurring(cron = "0 0 12 1 JAN ? 2099", id = "new-year", misfire = "all")]
async fn new_year() {}

/// Running a recurring job now; compiled, not run.
#[allow(dead_code)]
async fn usage(client: &Client) -> Result<JobId, EnqueueError> {
    sync::trigger(client).await?;
    nightly_report::enqueue(client).await
}

fn main() {
    let nightly = nightly_report::recurring_definition();
    assert_eq!((nightly.id, nightly.cron, nightly.tz), ("nightly-report", "0 0 2 * * *", "Europe/Berlin"));
    assert_eq!(nightly.misfire, Misfire::Once);
    assert_eq!(nightly.job.name, nightly_report::NAME);
    assert_eq!(sync::recurring_definition().misfire, Misfire::Skip);
    assert_eq!(new_year::recurring_definition().misfire, Misfire::All);
    assert_eq!(new_year::recurring_definition().tz, "UTC");
    assert_eq!(new_year::ID, "new-year");
    let ids: Vec<&str> = jobs_core::__private::schedules().map(|s| s.id).collect();
    for id in ["nightly-report", "sync", "new-year"] {
        assert!(ids.contains(&id), "{id}");
    }
}
