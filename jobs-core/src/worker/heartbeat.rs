//! Tells the store this worker is alive (what `Client::workers` lists),
//! renews the leases of claimed jobs (running or buffered), writes the
//! progress runs reported, and stops runs the store no longer considers
//! running (cancelled through the client, or rescued after this worker
//! stalled past its lease). At shutdown, removes this worker from the
//! live ones.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::WorkerQueue;
use crate::backend::{
    JobHeartbeatParams, JobProgressManyParams, WorkerHeartbeatParams, WorkerRemoveParams,
};
use crate::worker::WorkerShared;

/// Runs until `stop` fires, then removes this worker from the live ones.
pub(crate) async fn run(shared: Arc<WorkerShared>, stop: CancellationToken) {
    let presence = Presence::new(&shared);
    let mut interval = tokio::time::interval(shared.config.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        // leases first: a slow presence write must not let them lapse
        renew_leases(&shared).await;
        presence.beat(&shared).await;
    }
    let params = WorkerRemoveParams { id: &shared.id };
    if let Err(error) = shared.backend.worker_remove(params).await {
        tracing::debug!(%error, "could not remove this worker from the live ones; it drops off when its lease ends");
    }
}

/// What this worker says about itself at each heartbeat.
struct Presence {
    queues: Vec<WorkerQueue>,
    pid: u32,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl Presence {
    fn new(shared: &WorkerShared) -> Self {
        Self {
            queues: shared
                .queues
                .iter()
                .map(|queue| WorkerQueue {
                    name: queue.name.to_string(),
                    concurrency: u32::try_from(queue.concurrency).unwrap_or(u32::MAX),
                })
                .collect(),
            pid: std::process::id(),
            started_at: shared.clock.now(),
        }
    }

    async fn beat(&self, shared: &WorkerShared) {
        let params = WorkerHeartbeatParams {
            id: &shared.id,
            hostname: &shared.hostname,
            pid: self.pid,
            queues: &self.queues,
            running: u32::try_from(shared.running()).unwrap_or(u32::MAX),
            started_at: self.started_at,
            lease: shared.config.lease,
        };
        if let Err(error) = shared.backend.worker_heartbeat(params).await {
            tracing::warn!(%error, "could not record this worker as live");
        }
    }
}

/// Renews the leases of the jobs this worker holds, stops the runs the
/// store no longer considers running, and writes the progress reported.
async fn renew_leases(shared: &WorkerShared) {
    let mut running = Vec::new();
    for queue in &shared.queues {
        queue.leased(&mut running);
    }
    if running.is_empty() {
        return;
    }
    let params = JobHeartbeatParams {
        running: &running,
        lease: shared.config.lease,
    };
    match shared.backend.job_heartbeat(params).await {
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
    if !progress.is_empty() {
        let params = JobProgressManyParams { reports: &progress };
        if let Err(error) = shared.backend.job_progress_many(params).await {
            tracing::debug!(%error, jobs = progress.len(), "could not record job progress");
        }
    }
}
