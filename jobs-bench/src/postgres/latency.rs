//! Latency: enqueue → start under a constant-rate producer, and start −
//! scheduled time of jobs scheduled evenly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jobs_core::{Client, Worker};

use super::{Pg, Result};
use crate::jobs::{QUEUE, Stamps, Tally, noop, probe};
use crate::pacer;
use crate::report::{Report, Target};
use crate::stats::Summary;
use crate::workloads::Sizes;

/// The worker's concurrency in both workloads (the peers' setting).
const CONCURRENCY: usize = 16;

/// Jobs run before the clock starts, so the measurement sees a running
/// system rather than its first second.
const WARM_UP_JOBS: usize = 2_000;

pub(crate) async fn latency(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let rate = sizes.pg_latency_rate;
    let jobs = (rate * sizes.pg_latency_secs) as usize;
    let schema = "bench_latency";
    let backend = pg.fresh(schema).await?;
    let client = Client::new(backend.clone());
    let stamps = Arc::new(Stamps::new(jobs));
    let tally = Arc::new(Tally::default());
    let worker = Worker::builder(backend.clone())
        .state(Arc::clone(&stamps))
        .state(Arc::clone(&tally))
        .queue(QUEUE, CONCURRENCY)
        .only(&[probe::NAME, noop::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    warm_up(pg, schema, &client, &tally).await?;
    let producer = pacer::run(&client, &stamps, rate, jobs);
    pacer::finish(producer, &stamps, Duration::from_secs(10)).await?;
    worker.shutdown().await;
    backend.pool().close().await;
    pg.drop_schema(schema).await?;

    let latency = Summary::of(ms(Stamps::spans_us(&stamps.sent, &stamps.started)));
    let enqueue = Summary::of(ms(Stamps::spans_us(&stamps.sent, &stamps.stored)));
    let after = Summary::of(ms(Stamps::spans_us(&stamps.stored, &stamps.started)));
    let mut report = Report::new("pg-latency", "postgres")
        .setup("rate_per_s", rate)
        .setup("seconds", sizes.pg_latency_secs)
        .setup("jobs", latency.count)
        .setup("concurrency", CONCURRENCY);
    report.figure("p50", latency.p50, "ms", Some(Target::AtMost(1.0)));
    report.figure("p99", latency.p99, "ms", Some(Target::AtMost(2.5)));
    report.figure("max", latency.max, "ms", None);
    report.figure("enqueue call p50", enqueue.p50, "ms", None);
    report.figure("enqueue call p99", enqueue.p99, "ms", None);
    report.figure("stored → start p50", after.p50, "ms", None);
    report.figure("stored → start p99", after.p99, "ms", None);
    Ok(report)
}

pub(crate) async fn scheduled(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.pg_scheduled_jobs;
    let span = Duration::from_secs(u64::from(sizes.pg_scheduled_secs));
    let step = span / u32::try_from(jobs).unwrap_or(u32::MAX);
    let schema = "bench_scheduled";
    let backend = pg.fresh(schema).await?;
    let client = Client::new(backend.clone());
    let stamps = Arc::new(Stamps::new(jobs));
    let worker = Worker::builder(backend.clone())
        .state(Arc::clone(&stamps))
        .queue(QUEUE, CONCURRENCY)
        .only(&[probe::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();

    // Due times are wall-clock times (that is what the database compares);
    // one reading of both clocks maps them onto the monotonic one.
    let (base_instant, base_wall) = (Instant::now(), Utc::now());
    let lead = Duration::from_secs(2);
    let builders: Vec<_> = (0..jobs)
        .map(|seq| {
            let offset = lead + step * seq as u32;
            Stamps::set(&stamps.sent, seq as u64, stamps.at(base_instant + offset));
            let due = base_wall + chrono::Duration::from_std(offset).unwrap_or_default();
            probe::with(seq as u64).at(due)
        })
        .collect();
    client
        .enqueue_many(builders)
        .await
        .map_err(|e| format!("enqueue_many: {e}"))?;
    if base_instant.elapsed() > lead {
        return Err("storing the jobs took longer than the lead before the first is due".into());
    }
    let deadline = base_instant + lead + span + Duration::from_secs(10);
    while stamps.started_count() < jobs {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {jobs} jobs started",
                stamps.started_count()
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.shutdown().await;
    backend.pool().close().await;
    pg.drop_schema(schema).await?;

    let late = Summary::of(ms(Stamps::spans_us(&stamps.sent, &stamps.started)));
    let mut report = Report::new("pg-scheduled", "postgres")
        .setup("jobs", jobs)
        .setup("seconds", sizes.pg_scheduled_secs)
        .setup("concurrency", CONCURRENCY);
    report.figure("start - scheduled p50", late.p50, "ms", None);
    report.figure(
        "start - scheduled p99",
        late.p99,
        "ms",
        Some(Target::AtMost(25.0)),
    );
    report.figure("start - scheduled max", late.max, "ms", None);
    Ok(report)
}

/// Runs [`WARM_UP_JOBS`] jobs through the worker and analyzes the table,
/// as autovacuum does within a minute of a table's first rows.
///
/// The worker prepares its statements on its first jobs, and PostgreSQL
/// keeps the plans it made for the table it saw then: on a table never
/// analyzed, a sequential scan, which stays in the plan as the rows of
/// finished jobs pile up until the table's statistics change. Measuring
/// from a fresh table would time that first minute of a new install, not
/// the system that runs afterwards.
async fn warm_up(pg: &Pg, schema: &str, client: &Client, tally: &Tally) -> Result<()> {
    let builders = (0..WARM_UP_JOBS).map(|_| noop::with()).collect();
    client
        .enqueue_many(builders)
        .await
        .map_err(|e| format!("enqueue the warm-up jobs: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.runs() < WARM_UP_JOBS as u64 {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {WARM_UP_JOBS} warm-up jobs ran",
                tally.runs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pg.execute(&format!("ANALYZE {schema}.jobs")).await?;
    // the worker re-plans on its next statements; let its completions settle
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

fn ms(us: Vec<f64>) -> Vec<f64> {
    us.into_iter().map(|us| us / 1_000.0).collect()
}
