//! The jobs the worker processes run. Each records what it did in the run
//! log, a file shared by every process of one test.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jobs_core::{JobContext, JobError, job, recurring};

/// Appends one line per event: `unix_ms pid event job_id attempt`.
#[derive(Clone, Debug)]
pub struct RunLog {
    file: Arc<Mutex<File>>,
}

impl RunLog {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Arc::new(Mutex::new(file)),
        })
    }

    pub fn record(&self, event: &str, ctx: &JobContext) {
        let line = format!(
            "{} {} {} {} {}\n",
            chrono::Utc::now().timestamp_millis(),
            std::process::id(),
            event,
            ctx.id().get(),
            ctx.attempt()
        );
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // one write per line on an O_APPEND file: lines of several
        // processes do not interleave
        file.write_all(line.as_bytes()).expect("write the run log");
    }
}

/// Holds its first attempt for `first_ms`, then fails it; later attempts
/// succeed at once. A stale first attempt that reports late is visible as
/// an error that must not reach the job.
#[job(name = "durability_hold", queue = "hold", retries = 3)]
pub async fn hold(
    log: jobs_core::State<RunLog>,
    ctx: JobContext,
    first_ms: u64,
) -> Result<(), JobError> {
    log.record("start", &ctx);
    if ctx.attempt() == 1 {
        tokio::time::sleep(Duration::from_millis(first_ms)).await;
        log.record("end", &ctx);
        return Err(JobError::failed("attempt 1 failed late"));
    }
    log.record("end", &ctx);
    Ok(())
}

/// Succeeds at once.
#[job(name = "durability_quick")]
pub async fn quick(log: jobs_core::State<RunLog>, ctx: JobContext) {
    log.record("start", &ctx);
}

/// Ticks every second.
#[recurring(cron = "* * * * * *", id = "durability-tick", misfire = "all")]
pub async fn tick(log: jobs_core::State<RunLog>, ctx: JobContext) {
    log.record("start", &ctx);
}
