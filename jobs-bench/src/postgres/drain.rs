//! Draining a loaded queue: no-op jobs at several concurrencies (with
//! their cost per job), and 1 ms jobs at concurrency 4.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::{Client, Worker};
use serde_json::json;

use super::cost::{Cost, Counters};
use super::{LOAD_BATCH, Pg, Result};
use crate::jobs::{QUEUE, Tally, noop, wait_1ms};
use crate::load::load;
use crate::report::{Report, Target};
use crate::workloads::Sizes;

/// One drain's result.
struct Drained {
    jobs_per_s: f64,
    /// The mean time a job body took.
    mean_body: Duration,
    cost: Cost,
}

/// No-op jobs at each concurrency: the `pg-drain` report and the
/// `pg-cost` report.
pub(crate) async fn drain(pg: &Pg, sizes: &Sizes) -> Result<(Report, Report)> {
    let jobs = sizes.pg_drain_jobs;
    let mut runs = Vec::new();
    for &concurrency in sizes.pg_drain_concurrency {
        eprintln!("   pg-drain: {jobs} jobs at concurrency {concurrency}");
        runs.push((concurrency, drain_once(pg, jobs, concurrency, false).await?));
    }
    let best = runs
        .iter()
        .map(|(_, run)| run.jobs_per_s)
        .fold(0.0, f64::max);
    let mut report = Report::new("pg-drain", "postgres")
        .setup("jobs", jobs)
        .setup("concurrency", sizes.pg_drain_concurrency.to_vec());
    for (concurrency, run) in &runs {
        // the goal is stated for concurrency 16
        let target = (*concurrency == 16).then_some(Target::AtLeast(90_000.0));
        report.figure(
            format!("concurrency {concurrency}"),
            run.jobs_per_s,
            "jobs/s",
            target,
        );
    }
    report.figure("best", best, "jobs/s", None);

    let mut cost = Report::new("pg-cost", "postgres")
        .setup("jobs", jobs)
        .setup("measured_in", "pg-drain");
    for (concurrency, run) in &runs {
        let c = &run.cost;
        cost.figure(
            format!("commits, c={concurrency}"),
            c.commits_per_job,
            "per job",
            None,
        );
        cost.figure(
            format!("WAL, c={concurrency}"),
            c.wal_bytes_per_job,
            "bytes/job",
            None,
        );
        if let Some(statements) = c.statements_per_job {
            cost.figure(
                format!("statements, c={concurrency}"),
                statements,
                "per job",
                None,
            );
        }
        cost.figure(
            format!("rows written, c={concurrency}"),
            c.rows_written_per_job,
            "per job",
            None,
        );
        cost.details.insert(
            format!("top_statements_c{concurrency}"),
            json!(c.top_statements),
        );
    }
    cost.setup.insert(
        "statements_from".into(),
        json!(if pg.statements {
            "pg_stat_statements"
        } else {
            "not measured: pg_stat_statements is not loaded"
        }),
    );
    Ok((report, cost))
}

/// 1 ms jobs at concurrency 4.
pub(crate) async fn drain_1ms(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.pg_drain_1ms_jobs;
    let run = drain_once(pg, jobs, 4, true).await?;
    let mut report = Report::new("pg-drain-1ms", "postgres")
        .setup("jobs", jobs)
        .setup("concurrency", 4)
        .setup("job", "waits 1 ms on a blocking thread");
    report.figure(
        "drain",
        run.jobs_per_s,
        "jobs/s",
        Some(Target::AtLeast(3_600.0)),
    );
    report.figure("of the ideal 4,000", run.jobs_per_s / 40.0, "%", None);
    let body_ms = run.mean_body.as_secs_f64() * 1e3;
    report.figure("job body mean", body_ms, "ms", None);
    report.figure(
        "of the ideal at that body",
        run.jobs_per_s / (4.0 / run.mean_body.as_secs_f64()) * 100.0,
        "%",
        None,
    );
    report.figure("commits", run.cost.commits_per_job, "per job", None);
    if let Some(statements) = run.cost.statements_per_job {
        report.figure("statements", statements, "per job", None);
    }
    report
        .details
        .insert("top_statements".into(), json!(run.cost.top_statements));
    Ok(report)
}

async fn drain_once(pg: &Pg, jobs: usize, concurrency: usize, slow: bool) -> Result<Drained> {
    let schema = if slow {
        "bench_drain_1ms"
    } else {
        "bench_drain"
    };
    // loaded through a pool of its own, closed so its counts are published
    let loader = pg.fresh(schema).await?;
    let client = Client::new(loader.clone());
    if slow {
        load(&client, jobs, LOAD_BATCH, |_| wait_1ms::with()).await?;
    } else {
        load(&client, jobs, LOAD_BATCH, |_| noop::with()).await?;
    }
    loader.pool().close().await;
    drop((client, loader));
    // what autovacuum does soon after a load anyway: fresh statistics
    pg.execute(&format!("VACUUM ANALYZE {schema}.jobs")).await?;
    pg.execute("CHECKPOINT").await?;
    let before = Counters::read(pg).await?;

    let backend = pg.backend(schema).await?;
    let tally = Arc::new(Tally::default());
    let kind = if slow { wait_1ms::NAME } else { noop::NAME };
    let started = Instant::now();
    let worker = Worker::builder(backend.clone())
        .state(Arc::clone(&tally))
        .queue(QUEUE, concurrency)
        .only(&[kind])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    while tally.runs() < jobs as u64 {
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("only {} of {jobs} jobs ran", tally.runs()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // every job has run; shutting down returns once every outcome is
    // recorded, which is when the queue is drained
    worker.shutdown().await;
    let elapsed = started.elapsed();
    // ends every session of the measured work: the pool and the listener
    backend.pool().close().await;
    drop(backend);
    let cost = before.cost_since(pg, jobs).await?;
    pg.drop_schema(schema).await?;
    Ok(Drained {
        jobs_per_s: jobs as f64 / elapsed.as_secs_f64(),
        mean_body: tally.mean_body(),
        cost,
    })
}
