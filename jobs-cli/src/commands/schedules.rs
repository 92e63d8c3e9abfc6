//! Recurring schedules: list them, trigger one now.

use jobs_core::Client;
use serde::Serialize;

use crate::error::CliError;
use crate::format;
use crate::output::Output;
use crate::table::{Table, one_line};

pub(crate) async fn list(client: &Client) -> Result<Output, CliError> {
    let schedules = client.schedules().await?;
    let human = if schedules.is_empty() {
        "no schedules\n".to_owned()
    } else {
        let mut table = Table::new(&[
            "SCHEDULE", "KIND", "QUEUE", "CRON", "ZONE", "MISFIRE", "ORIGIN", "NEXT RUN",
            "LAST RUN", "ORPHANED",
        ]);
        for schedule in &schedules {
            table.row(vec![
                one_line(&schedule.id),
                one_line(&schedule.kind),
                one_line(&schedule.queue),
                one_line(&schedule.cron),
                one_line(&schedule.tz),
                schedule.misfire.as_str().to_owned(),
                schedule.origin.as_str().to_owned(),
                format::time(schedule.next_run_at),
                format::maybe_time(schedule.last_run_at),
                if schedule.orphaned { "yes" } else { "no" }.to_owned(),
            ]);
        }
        table.render()
    };
    Output::new(human, &schedules)
}

pub(crate) async fn trigger(client: &Client, schedule: &str) -> Result<Output, CliError> {
    let job = client.trigger_schedule(schedule).await?;
    #[derive(Serialize)]
    struct Triggered<'a> {
        schedule: &'a str,
        job: i64,
    }
    Output::new(
        format!(
            "enqueued job {job} from schedule `{}`\n",
            one_line(schedule)
        ),
        &Triggered {
            schedule,
            job: job.get(),
        },
    )
}
