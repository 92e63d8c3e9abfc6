//! Renews the leases of running jobs, writes the progress they reported,
//! and stops runs the store no longer considers running (cancelled through
//! the client, or rescued after this worker stalled past its lease).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::worker::WorkerShared;

/// Runs until `stop` fires.
pub(crate) async fn run(shared: Arc<WorkerShared>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(shared.config.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        let running = shared.running.snapshot();
        if running.is_empty() {
            continue;
        }
        match shared
            .backend
            .job_heartbeat(&running, shared.config.lease)
            .await
        {
            Ok(gone) => {
                for id in gone {
                    tracing::info!(
                        job.id = id.get(),
                        "job is no longer running in the store; cancelling its run"
                    );
                    shared.running.cancel(id);
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs = running.len(), "could not renew job leases")
            }
        }
        let progress = shared.running.progress_changes();
        if !progress.is_empty() {
            if let Err(error) = shared.backend.job_progress_many(&progress).await {
                tracing::debug!(%error, jobs = progress.len(), "could not record job progress");
            }
        }
    }
}
