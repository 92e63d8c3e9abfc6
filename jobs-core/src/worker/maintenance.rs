//! On the leader: backend maintenance (rescue expired leases, prune
//! finished jobs) and queue-depth gauges, every maintenance interval.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::JobState;
use crate::worker::WorkerShared;
use crate::worker::metrics::names;

/// Runs until `stop` fires.
pub(crate) async fn run(
    shared: Arc<WorkerShared>,
    is_leader: watch::Receiver<bool>,
    stop: CancellationToken,
) {
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
        match shared.backend.maintain().await {
            Ok(report) if report.rescued > 0 || report.pruned > 0 => {
                tracing::info!(
                    rescued = report.rescued,
                    pruned = report.pruned,
                    "maintenance pass"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "maintenance pass failed; trying again next interval")
            }
        }
        record_queue_depths(&shared).await;
    }
}

async fn record_queue_depths(shared: &WorkerShared) {
    let counts = match shared.backend.job_counts().await {
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
