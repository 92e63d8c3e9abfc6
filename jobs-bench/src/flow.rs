//! Flow control on either backend: a drain of jobs whose concurrency is
//! limited per key (`concurrency = 8, concurrency_key = "key"` over 1,000
//! keys), and a drain of jobs with `rate_limit = "5000/1s"`, whose
//! sustained start rate should sit at the limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::{Backend, Client, Worker};

use crate::jobs::{QUEUE, Starts, Tally, keyed, rate_limited};
use crate::load::load;
use crate::report::{Report, Target};
use crate::workloads::Sizes;

type Result<T> = std::result::Result<T, String>;

/// How many jobs one `enqueue_many` call stores while loading.
const LOAD_BATCH: usize = 5_000;
/// Slots of the one worker that drains.
const CONCURRENCY: usize = 64;
/// `rate_limited`'s limit, a second.
const RATE: f64 = 5_000.0;

/// Drains `keyed_jobs` jobs spread round-robin over `keyed_keys` keys;
/// jobs/s from the worker's start until every job ran.
pub(crate) async fn drain_keyed(
    name: &'static str,
    backend_name: &'static str,
    backend: Arc<dyn Backend>,
    sizes: &Sizes,
) -> Result<Report> {
    let jobs = sizes.keyed_jobs;
    let keys = sizes.keyed_keys.max(1);
    let client = Client::from_arc(Arc::clone(&backend));
    load(&client, jobs, LOAD_BATCH, |seq| {
        keyed::with(u32::try_from(seq).unwrap_or(u32::MAX) % keys)
    })
    .await?;
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let worker = Worker::builder_from_arc(backend)
        .state(Arc::clone(&tally))
        .queue(QUEUE, CONCURRENCY)
        .only(&[keyed::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    while tally.runs() < jobs as u64 {
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("only {} of {jobs} jobs ran", tally.runs()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    worker.shutdown().await;
    let mut report = Report::new(name, backend_name)
        .setup("jobs", jobs)
        .setup("keys", keys)
        .setup("limit", "concurrency = 8 per key")
        .setup("concurrency", CONCURRENCY);
    report.figure("drain", jobs as f64 / elapsed.as_secs_f64(), "jobs/s", None);
    Ok(report)
}

/// Drains `rate_jobs` jobs of a kind limited to 5,000 starts a second.
/// The first window's starts come at once (as fast as the worker claims
/// them), and each later start waits for the one 5,000 before it to leave
/// the window: the sustained rate is the starts after the first 5,000 over
/// the time from the 5,000th start to the last.
pub(crate) async fn drain_rate(
    name: &'static str,
    backend_name: &'static str,
    backend: Arc<dyn Backend>,
    sizes: &Sizes,
) -> Result<Report> {
    let jobs = sizes.rate_jobs;
    let client = Client::from_arc(Arc::clone(&backend));
    load(&client, jobs, LOAD_BATCH, |_| rate_limited::with()).await?;
    let starts = Arc::new(Starts::new(jobs));
    let started = Instant::now();
    let worker = Worker::builder_from_arc(backend)
        .state(Arc::clone(&starts))
        .queue(QUEUE, CONCURRENCY)
        .only(&[rate_limited::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    while starts.count() < jobs as u64 {
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("only {} of {jobs} jobs ran", starts.count()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    worker.shutdown().await;
    let at = starts.sorted();
    let first_window = (RATE as usize).min(at.len());
    let sustained = match (at.get(first_window.saturating_sub(1)), at.last()) {
        (Some(&from), Some(&to)) if to > from => {
            (at.len() - first_window) as f64 / (to - from).as_secs_f64()
        }
        _ => 0.0,
    };
    let mut report = Report::new(name, backend_name)
        .setup("jobs", jobs)
        .setup("limit", "rate_limit = \"5000/1s\"")
        .setup("concurrency", CONCURRENCY);
    report.figure(
        "overall",
        jobs as f64 / elapsed.as_secs_f64(),
        "jobs/s",
        None,
    );
    report.figure(
        "sustained",
        sustained,
        "starts/s",
        Some(Target::Within(RATE, 5.0)),
    );
    Ok(report)
}
