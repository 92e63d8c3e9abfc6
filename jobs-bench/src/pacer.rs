//! A constant-rate producer: enqueues one probe job every `1 / rate`
//! seconds, whatever the responses do.
//!
//! A dedicated thread keeps the pace with the operating system's precise
//! sleep (tokio's timer counts whole milliseconds) and hands each job to
//! the runtime as its own task, so a slow enqueue delays only its own job,
//! never the next send: the offered load stays constant. Each task reads
//! the clock just before it calls `enqueue` and when the call returned
//! (and stores both after the call); the job stamps when its body starts,
//! on the same monotonic clock. A job whose enqueue failed has no stamps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobs_core::Client;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::jobs::{Stamps, probe};

/// Sends `jobs` probe jobs at `rate` per second; returns the enqueue tasks.
pub(crate) fn run(
    client: &Client,
    stamps: &Arc<Stamps>,
    rate: u32,
    jobs: usize,
) -> std::thread::JoinHandle<Vec<JoinHandle<()>>> {
    let handle = Handle::current();
    let client = client.clone();
    let stamps = Arc::clone(stamps);
    std::thread::spawn(move || {
        let period = Duration::from_secs(1) / rate;
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(jobs);
        for seq in 0..jobs {
            let due = start + period * u32::try_from(seq).unwrap_or(u32::MAX);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let client = client.clone();
            let stamps = Arc::clone(&stamps);
            tasks.push(handle.spawn(async move {
                let seq = seq as u64;
                // the clock is read here and converted after the call, so
                // the conversion is not counted as part of the enqueue
                let sent = Instant::now();
                match probe::enqueue(&client, seq).await {
                    Ok(_) => {
                        let stored = Instant::now();
                        Stamps::set(&stamps.sent, seq, stamps.at(sent));
                        Stamps::set(&stamps.stored, seq, stamps.at(stored));
                    }
                    Err(error) => eprintln!("enqueue failed: {error}"),
                }
            }));
        }
        tasks
    })
}

/// Waits for the producer, its enqueues, and every job to start (or
/// `patience` after the last enqueue).
pub(crate) async fn finish(
    producer: std::thread::JoinHandle<Vec<JoinHandle<()>>>,
    stamps: &Stamps,
    patience: Duration,
) -> Result<(), String> {
    let tasks = tokio::task::spawn_blocking(move || producer.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "the producer thread panicked".to_owned())?;
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + patience;
    while stamps.started_count() < stamps.started.len() {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {} jobs started",
                stamps.started_count(),
                stamps.started.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
