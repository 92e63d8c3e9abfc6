//! The worker process: a real `Worker` on `PgBackend`, configured by the
//! environment the parent test sets, stopped by SIGTERM (gracefully) or
//! SIGKILL (not at all).

use std::path::PathBuf;
use std::time::Duration;

use jobs_core::Worker;
use jobs_postgres::PgBackend;
use tokio::signal::unix::{SignalKind, signal};

use crate::jobs::RunLog;

/// Set in the environment of worker processes.
pub const CHILD: &str = "JOBS_DURABILITY_CHILD";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("worker process: {name} is not set"))
}

fn millis(name: &str) -> Duration {
    Duration::from_millis(var(name).parse().expect("a number of milliseconds"))
}

pub async fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info,sqlx=warn".to_owned()))
        .with_writer(std::io::stderr)
        .init();
    let backend = PgBackend::builder()
        .schema(var("JOBS_SCHEMA"))
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(3))
        .connect(var("DATABASE_URL"))
        .await
        .expect("worker process: connect");
    let log = RunLog::open(&PathBuf::from(var("JOBS_RUN_LOG"))).expect("open the run log");
    let only = var("JOBS_ONLY");
    let only: Vec<&str> = only.split(',').collect();
    let mut builder = Worker::builder(backend)
        .state(log)
        .only(&only)
        .lease(millis("JOBS_LEASE_MS"))
        .maintenance_interval(millis("JOBS_SWEEP_MS"))
        .leader_term(millis("JOBS_LEADER_TERM_MS"))
        .poll_interval(Duration::from_millis(100))
        .scheduler_interval(Duration::from_millis(200))
        .shutdown_timeout(Duration::from_secs(5));
    for queue in var("JOBS_QUEUES").split(',') {
        let (name, concurrency) = queue.split_once(':').expect("queue:concurrency");
        builder = builder.queue(name, concurrency.parse().expect("a concurrency"));
    }
    let worker = builder.build().expect("build the worker");
    eprintln!(
        "worker {} started (pid {})",
        worker.id(),
        std::process::id()
    );
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    worker
        .run_until(async move {
            term.recv().await;
        })
        .await
        .expect("worker process: run");
    eprintln!("worker process {} stopped", std::process::id());
}
