//! Writes attempt outcomes to the backend in batches.
//!
//! Executors send completions into a channel; this task takes whatever has
//! piled up (up to the batch size) and writes it in one call. Under load,
//! batches grow by themselves while a write is in flight; when idle, a lone
//! completion is written at once, so batching costs no latency.
//!
//! A backend may take several batches at once
//! ([`Backend::completion_writers`]): PostgreSQL does, since each of its
//! writes ends waiting for its commit to reach the disk, and a second batch
//! in flight keeps the server busy meanwhile. The batches in flight never
//! share a job (each outcome is sent once), and each is written in a task
//! of its own, retried alone until it is stored. With one writer, batches
//! are written in this task, one after the other.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::backend::{Backend, JobCompleteManyParams, JobTransition};
use crate::worker::backoff::ErrorBackoff;

/// Runs until every sender is dropped, the channel is drained and every
/// batch is written.
pub(crate) async fn run(
    backend: Arc<dyn Backend>,
    mut completions: mpsc::UnboundedReceiver<JobTransition>,
    batch: usize,
) {
    let writers = backend.completion_writers();
    let mut buffer = Vec::with_capacity(batch);
    if writers <= 1 {
        while completions.recv_many(&mut buffer, batch).await > 0 {
            write(&*backend, &buffer).await;
            buffer.clear();
        }
        return;
    }
    let mut writing = JoinSet::new();
    loop {
        if writing.len() >= writers {
            // a write panicking would be a bug of the backend's; the
            // others go on either way
            let _ = writing.join_next().await;
            continue;
        }
        if completions.recv_many(&mut buffer, batch).await == 0 {
            break;
        }
        let taken = std::mem::replace(&mut buffer, Vec::with_capacity(batch));
        let backend = Arc::clone(&backend);
        writing.spawn(async move { write(&*backend, &taken).await });
    }
    while writing.join_next().await.is_some() {}
}

/// Writes one batch, retrying until the backend stores it.
async fn write(backend: &dyn Backend, batch: &[JobTransition]) {
    let mut backoff = ErrorBackoff::default();
    loop {
        let params = JobCompleteManyParams {
            transitions: batch.to_vec(),
        };
        match backend.job_complete_many(params).await {
            Ok(()) => return,
            Err(error) => {
                // Keep the batch: the jobs stay Running under their
                // leases, so nothing is lost while the backend is away.
                let pause = backoff.failed();
                tracing::warn!(%error, jobs = batch.len(), ?pause, "could not record job outcomes; retrying");
                tokio::time::sleep(pause).await;
            }
        }
    }
}
