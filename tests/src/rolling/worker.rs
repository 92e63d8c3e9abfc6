//! What both builds of the rolling-deploy program share: a run log, and a
//! process that enqueues its jobs, then works until SIGTERM. Included by
//! `src/bin/rolling_v1.rs` and `src/bin/rolling_v2.rs` with `#[path]`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jobs_core::{Client, JobContext, Worker};
use jobs_postgres::PgBackend;

/// Appends one line per event: `pid worker_version event job_id detail`.
#[derive(Clone, Debug)]
pub struct RunLog {
    file: Arc<Mutex<File>>,
    version: u32,
}

impl RunLog {
    fn open(version: u32) -> Self {
        let path = var("JOBS_RUN_LOG");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the run log");
        Self {
            file: Arc::new(Mutex::new(file)),
            version,
        }
    }

    fn line(&self, event: &str, job: i64, detail: &str) {
        let line = format!(
            "{} {} {event} {job} {detail}\n",
            std::process::id(),
            self.version
        );
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // one write per line on an O_APPEND file: lines of both processes
        // do not interleave
        file.write_all(line.as_bytes()).expect("write the run log");
    }

    /// One run of a job, with what its arguments decoded to.
    pub fn ran(&self, ctx: &JobContext, detail: &str) {
        self.line("ran", ctx.id().get(), detail);
    }
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("rolling worker: {name} is not set"))
}

/// Connects, enqueues `JOBS_ENQUEUE` jobs with `enqueue(client, i)`, logs
/// `enqueued`, then works the kind `kind` until SIGTERM.
pub async fn run<F, Fut>(version: u32, kind: &'static str, enqueue: F)
where
    F: Fn(Client, i64) -> Fut,
    Fut: std::future::Future<Output = Result<jobs_core::JobId, jobs_core::EnqueueError>>,
{
    let backend = PgBackend::builder()
        .schema(var("JOBS_SCHEMA"))
        .max_connections(4)
        .connect(var("DATABASE_URL"))
        .await
        .expect("rolling worker: connect");
    let log = RunLog::open(version);
    let client = Client::new(backend.clone());
    let count: i64 = var("JOBS_ENQUEUE").parse().expect("a number of jobs");
    for i in 0..count {
        let id = enqueue(client.clone(), i).await.expect("enqueue");
        log.line("enqueued", id.get(), "-");
    }
    let worker = Worker::builder(backend)
        .state(log)
        .only(&[kind])
        .queue("default", 2)
        .poll_interval(Duration::from_millis(50))
        .shutdown_timeout(Duration::from_secs(5))
        .build()
        .expect("build the worker");
    worker
        .run_until(jobs_core::shutdown_signal())
        .await
        .expect("rolling worker: run");
}
