//! The memory backend's workloads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::{Client, Worker};
use jobs_memory::MemoryBackend;

use crate::jobs::{QUEUE, Stamps, Tally, noop, payload, probe};
use crate::load::load;
use crate::pacer;
use crate::report::{Report, Target};
use crate::stats::Summary;
use crate::workloads::Sizes;

type Result<T> = std::result::Result<T, String>;

/// How many jobs one `enqueue_many` call stores while loading.
const LOAD_BATCH: usize = 10_000;

/// Drains `jobs` queued no-op jobs; jobs/s from the worker's start until
/// every job is `Completed`.
pub(crate) async fn drain(sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.mem_drain_jobs;
    let concurrency = sizes.mem_drain_concurrency;
    let backend = MemoryBackend::with_capacity(jobs);
    let client = Client::new(backend.clone());
    load(&client, jobs, LOAD_BATCH, |_| noop::with()).await?;
    let tally = Tally::default();
    let tally = Arc::new(tally);
    let started = Instant::now();
    let worker = Worker::builder(backend.clone())
        .state(Arc::clone(&tally))
        .queue(QUEUE, concurrency)
        .only(&[noop::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    while tally.runs() < jobs as u64 || !backend.is_empty() {
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {} of {jobs} jobs ran", tally.runs()));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    worker.shutdown().await;
    let mut report = Report::new("mem-drain", "memory")
        .setup("jobs", jobs)
        .setup("concurrency", concurrency);
    report.figure(
        "drain",
        jobs as f64 / elapsed.as_secs_f64(),
        "jobs/s",
        Some(Target::AtLeast(2_000_000.0)),
    );
    Ok(report)
}

/// Enqueue → start latency under a constant-rate producer.
pub(crate) async fn latency(sizes: &Sizes) -> Result<Report> {
    let rate = sizes.mem_latency_rate;
    let jobs = (rate * sizes.mem_latency_secs) as usize;
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let stamps = Arc::new(Stamps::new(jobs));
    let worker = Worker::builder(backend)
        .state(Arc::clone(&stamps))
        .queue(QUEUE, 16)
        .only(&[probe::NAME])
        .build()
        .map_err(|e| e.to_string())?
        .start();
    let producer = pacer::run(&client, &stamps, rate, jobs);
    pacer::finish(producer, &stamps, Duration::from_secs(10)).await?;
    worker.shutdown().await;
    let latency = Summary::of(Stamps::spans_us(&stamps.sent, &stamps.started));
    let enqueue = Summary::of(Stamps::spans_us(&stamps.sent, &stamps.stored));
    let mut report = Report::new("mem-latency", "memory")
        .setup("rate_per_s", rate)
        .setup("seconds", sizes.mem_latency_secs)
        .setup("jobs", latency.count)
        .setup("concurrency", 16);
    report.figure("p50", latency.p50, "us", Some(Target::AtMost(3.0)));
    report.figure("p99", latency.p99, "us", Some(Target::AtMost(15.0)));
    report.figure("max", latency.max, "us", None);
    report.figure("enqueue call p50", enqueue.p50, "us", None);
    report.figure("enqueue call p99", enqueue.p99, "us", None);
    Ok(report)
}

/// Resident memory growth of queued jobs, measured in a fresh process of
/// this program so that what earlier workloads freed (and the allocator
/// kept) cannot hide the growth.
pub(crate) async fn rss(sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.mem_rss_jobs;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new(exe)
        .args(["--child", "mem-rss", &jobs.to_string()])
        .output()
        .await
        .map_err(|e| format!("run the measuring process: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the measuring process failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let growth: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("read the measuring process's answer: {e}"))?;
    let mut report = Report::new("mem-rss", "memory")
        .setup("jobs", jobs)
        .setup("argument_bytes", 32);
    // the target is stated for a million jobs; smaller runs scale it
    let target = 250.0 * jobs as f64 / 1_000_000.0;
    report.figure(
        "resident growth",
        growth / 1e6,
        "MB",
        Some(Target::AtMost(target)),
    );
    report.figure("per job", growth / jobs as f64, "bytes", None);
    Ok(report)
}

/// The measuring side of [`rss`]: queues `jobs` jobs and prints how many
/// bytes the resident set grew.
pub(crate) async fn rss_child(jobs: usize) -> Result<()> {
    let before = resident_bytes()?;
    let backend = MemoryBackend::with_capacity(jobs);
    let client = Client::new(backend.clone());
    let data = "0123456789abcdef0123456789abcdef".to_owned();
    load(&client, jobs, LOAD_BATCH, |_| payload::with(data.clone())).await?;
    let after = resident_bytes()?;
    if backend.len() != jobs {
        return Err(format!("{} of {jobs} jobs queued", backend.len()));
    }
    println!("{}", after.saturating_sub(before));
    Ok(())
}

/// This process's resident set, from `/proc/self/statm` (pages of 4 KiB,
/// the page size of Linux on x86-64 and most arm64 builds).
fn resident_bytes() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .map_err(|e| format!("read /proc/self/statm: {e}"))?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .ok_or("parse /proc/self/statm")?;
    Ok(pages * 4096)
}
