//! A worker process for `tests/graceful_shutdown.rs`: one long job on the
//! memory backend, run until `jobs_core::shutdown_signal()` completes, then
//! a graceful shutdown. It prints `job running` once the job runs, then
//! after the shutdown the job's state and `shutdown complete`.

use std::time::Duration;

use jobs_core::prelude::*;
use jobs_memory::MemoryBackend;

/// Runs far longer than any test waits: only a shutdown ends it.
#[job]
async fn long_job() {
    tokio::time::sleep(Duration::from_secs(3_600)).await;
}

// One thread: the worker and the watcher run only once `run_until` waits on
// the signal, so the signal handlers are installed before `job running` is
// printed.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let id = long_job::enqueue(&client).await?;
    let worker = Worker::builder(backend)
        .queue("default", 1)
        .only(&[long_job::NAME])
        .shutdown_timeout(Duration::from_millis(200))
        .build()?;

    let watcher = client.clone();
    tokio::spawn(async move {
        loop {
            if let Ok(Some(job)) = watcher.job(id).await
                && job.state == JobState::Running
            {
                println!("job running");
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    worker.run_until(jobs_core::shutdown_signal()).await?;
    match client.job(id).await? {
        Some(job) => println!("job state: {} after {} attempt(s)", job.state, job.attempt),
        None => println!("job state: gone"),
    }
    println!("shutdown complete");
    Ok(())
}
