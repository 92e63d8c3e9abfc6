//! Schedules from data at run time: one report per tenant, on the
//! in-memory backend, no set-up.
//!
//! ```text
//! cargo run --example tenant_schedules
//! ```
//!
//! Stores a schedule per tenant with `client.upsert_schedule`, lets the
//! worker run their ticks for a few seconds, changes one tenant's schedule,
//! removes another's, lists the schedules and exits.

use std::time::Duration;

use jobs_core::prelude::*;
use jobs_core::{JobFilter, ScheduleInfo};
use jobs_memory::MemoryBackend;

/// The report of one tenant.
#[job(queue = "reports")]
async fn tenant_report(tenant_id: i64, format: String) {
    println!("  [report] tenant {tenant_id}, as {format}");
}

/// Tenant `tenant_id`'s report schedule: every `every` seconds here, so
/// the example shows ticks (a real one would be `"0 0 6 * * *"`).
fn report_schedule(tenant_id: i64, every: u32, format: &str) -> Schedule {
    Schedule::new(
        format!("tenant-{tenant_id}-report"),
        format!("*/{every} * * * * *"),
    )
    .tz("Europe/Berlin")
    .misfire(Misfire::Skip)
    .job(tenant_report::with(tenant_id, format.to_owned()))
}

fn show(schedules: &[ScheduleInfo]) {
    for schedule in schedules {
        println!(
            "  {} `{}` ({:?}), next tick {}, orphaned: {}",
            schedule.id, schedule.cron, schedule.origin, schedule.next_run_at, schedule.orphaned
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let worker = Worker::builder(backend)
        .queue("reports", 2)
        .build()?
        .start();

    for tenant_id in [7, 8, 9] {
        client
            .upsert_schedule(report_schedule(tenant_id, 2, "pdf"))
            .await?;
    }
    // the attribute's checks, at run time
    let five_fields =
        Schedule::new("tenant-10-report", "0 6 * * *").job(tenant_report::with(10, "pdf".into()));
    if let Err(error) = client.upsert_schedule(five_fields).await {
        println!("refused: {error}");
    }
    println!("stored:");
    show(&client.schedules().await?);
    tokio::time::sleep(Duration::from_secs(4)).await;

    println!("tenant 7 switches to csv every 3 s; tenant 9 leaves");
    client.upsert_schedule(report_schedule(7, 3, "csv")).await?;
    client.remove_schedule("tenant-9-report").await?;
    tokio::time::sleep(Duration::from_secs(4)).await;

    worker.shutdown().await;
    println!("stored:");
    show(&client.schedules().await?);
    let ran = client
        .list(JobFilter::new().kind(tenant_report::NAME).limit(1_000))
        .await?;
    println!("{} report jobs enqueued by the ticks", ran.len());
    Ok(())
}
