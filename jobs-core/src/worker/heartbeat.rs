//! Renews the leases of claimed jobs (running or buffered), writes the
//! progress runs reported, and stops runs the store no longer considers
//! running (cancelled through the client, or rescued after this worker
//! stalled past its lease).

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
        let mut running = Vec::new();
        for queue in &shared.queues {
            queue.leased(&mut running);
        }
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
                    for queue in &shared.queues {
                        if queue.cancel(id) {
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs = running.len(), "could not renew job leases")
            }
        }
        let mut progress = Vec::new();
        for queue in &shared.queues {
            queue.progress_changes(&mut progress);
        }
        if !progress.is_empty()
            && let Err(error) = shared.backend.job_progress_many(&progress).await
        {
            tracing::debug!(%error, jobs = progress.len(), "could not record job progress");
        }
    }
}
