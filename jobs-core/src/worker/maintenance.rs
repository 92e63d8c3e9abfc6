//! On the leader, every maintenance interval: the rescuer (running jobs
//! whose lease expired: their worker died or stalled), the pruner (finished
//! jobs past their retention, and the rows of workers whose lease ended),
//! and the queue-depth gauges.
//!
//! The rescuer decides here what happens to each expired run, with the
//! job's own retry policy, as River's rescuer does; the backend only lists
//! the expired runs and stores the decisions. Both work in bounded batches,
//! so a large backlog is worked off over several passes.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::JobState;
use crate::backend::{JobExpiredListParams, JobPruneParams, JobRescueManyParams, before};
use crate::registry;
use crate::retry::RetryPolicy;
use crate::worker::WorkerShared;
use crate::worker::metrics::names;
use crate::worker::outcome;

/// The most jobs one backend call rescues or prunes.
pub(crate) const MAINTENANCE_BATCH: usize = 1_000;
/// The most batches of each kind one pass works off.
pub(crate) const MAINTENANCE_BATCHES: usize = 10;

/// Runs until `stop` fires.
pub(crate) async fn run(
    shared: Arc<WorkerShared>,
    is_leader: watch::Receiver<bool>,
    stop: CancellationToken,
) {
    // Every job linked into this binary, not only the ones this worker
    // runs: the leader rescues jobs of every kind.
    let policies: HashMap<&'static str, RetryPolicy> = registry::jobs()
        .map(|definition| (definition.name, definition.retry))
        .collect();
    let mut interval = tokio::time::interval(shared.config.maintenance_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        if !*is_leader.borrow() {
            continue;
        }
        match pass(&shared, &policies).await {
            Ok((rescued, pruned)) if rescued > 0 || pruned > 0 => {
                tracing::info!(rescued, pruned, "maintenance pass");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "maintenance pass failed; trying again next interval")
            }
        }
        match shared.backend.worker_prune().await {
            Ok(0) => {}
            Ok(workers) => tracing::debug!(workers, "forgot workers that stopped heartbeating"),
            Err(error) => tracing::debug!(%error, "could not prune stale workers"),
        }
        record_queue_depths(&shared).await;
    }
}

/// One pass: rescue, then prune. Returns how many of each.
pub(crate) async fn pass(
    shared: &WorkerShared,
    policies: &HashMap<&'static str, RetryPolicy>,
) -> Result<(u64, u64), crate::BoxError> {
    Ok((rescue(shared, policies).await?, prune(shared).await?))
}

async fn rescue(
    shared: &WorkerShared,
    policies: &HashMap<&'static str, RetryPolicy>,
) -> Result<u64, crate::BoxError> {
    let mut rescued = 0;
    for _ in 0..MAINTENANCE_BATCHES {
        let expired = shared
            .backend
            .job_expired_list(JobExpiredListParams {
                limit: MAINTENANCE_BATCH,
            })
            .await?;
        if expired.is_empty() {
            break;
        }
        let now = shared.clock.now();
        let transitions: Vec<_> = expired
            .iter()
            .map(|job| {
                // a kind no binary here links: its delays are unknown, so
                // the default policy's (its attempts are stored with it)
                let policy = policies.get(job.kind.as_str()).copied().unwrap_or_default();
                let transition = outcome::rescue(job, &policy, now);
                tracing::warn!(
                    job.id = job.run.id.get(),
                    job.kind = %job.kind,
                    job.attempt = job.run.attempt,
                    worker = job.worker_id.as_deref().unwrap_or("unknown"),
                    state = transition.state.as_str(),
                    "rescued a job whose worker stopped renewing its lease"
                );
                transition
            })
            .collect();
        let full = expired.len() >= MAINTENANCE_BATCH;
        rescued += shared
            .backend
            .job_rescue_many(JobRescueManyParams { transitions })
            .await?;
        if !full {
            break;
        }
    }
    Ok(rescued)
}

async fn prune(shared: &WorkerShared) -> Result<u64, crate::BoxError> {
    let now = shared.clock.now();
    let params = JobPruneParams {
        completed_before: before(now, shared.config.retention_completed),
        failed_before: before(now, shared.config.retention_failed),
        limit: MAINTENANCE_BATCH,
    };
    let mut pruned = 0;
    for _ in 0..MAINTENANCE_BATCHES {
        let deleted = shared.backend.job_prune(params).await?;
        pruned += deleted;
        if deleted < MAINTENANCE_BATCH as u64 {
            break;
        }
    }
    Ok(pruned)
}

async fn record_queue_depths(shared: &WorkerShared) {
    let counts = match shared.backend.job_unfinished_counts().await {
        Ok(counts) => counts,
        Err(error) => {
            tracing::debug!(%error, "could not sample queue depths");
            return;
        }
    };
    let now = chrono::Utc::now();
    for (queue, by_state) in counts.iter() {
        let lag = by_state
            .oldest_available_at
            .map_or(0.0, |due| (now - due).as_seconds_f64().max(0.0));
        metrics::gauge!(names::QUEUE_LAG, "queue" => queue.to_owned()).set(lag);
        for state in JobState::ALL
            .into_iter()
            .filter(|state| !state.is_finished())
        {
            metrics::gauge!(names::QUEUE_DEPTH, "queue" => queue.to_owned(), "state" => state.as_str())
                .set(by_state.get(state) as f64);
        }
    }
}
