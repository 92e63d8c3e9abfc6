//! Writes attempt outcomes to the backend in batches.
//!
//! Executors send completions into a channel; this task takes whatever has
//! piled up (up to the batch size) and writes it in one call. Under load,
//! batches grow by themselves while a write is in flight; when idle, a lone
//! completion is written at once, so batching costs no latency.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::backend::{Backend, JobCompleteManyParams, JobTransition};
use crate::worker::backoff::ErrorBackoff;

/// Runs until every sender is dropped and the channel is drained.
pub(crate) async fn run(
    backend: Arc<dyn Backend>,
    mut completions: mpsc::UnboundedReceiver<JobTransition>,
    batch: usize,
) {
    let mut buffer = Vec::with_capacity(batch);
    let mut backoff = ErrorBackoff::default();
    while completions.recv_many(&mut buffer, batch).await > 0 {
        loop {
            let params = JobCompleteManyParams {
                transitions: buffer.clone(),
            };
            match backend.job_complete_many(params).await {
                Ok(()) => {
                    backoff.succeeded();
                    break;
                }
                Err(error) => {
                    // Keep the batch: the jobs stay Running under their
                    // leases, so nothing is lost while the backend is away.
                    let pause = backoff.failed();
                    tracing::warn!(%error, jobs = buffer.len(), ?pause, "could not record job outcomes; retrying");
                    tokio::time::sleep(pause).await;
                }
            }
        }
        buffer.clear();
    }
}
