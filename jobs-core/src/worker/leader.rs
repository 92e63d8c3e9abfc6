//! Leader election: one worker among many runs the cron scheduler and
//! backend maintenance. The term is renewed every third of its length; a
//! leader that dies is replaced when its term runs out.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::backend::{LeaderElectParams, LeaderResignParams};
use crate::worker::WorkerShared;

/// Runs until `stop` fires, publishing whether this worker leads.
pub(crate) async fn run(
    shared: Arc<WorkerShared>,
    is_leader: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let ttl = shared.config.leader_ttl;
    let mut interval = tokio::time::interval(ttl / 3);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        let params = LeaderElectParams {
            worker_id: &shared.id,
            ttl,
        };
        let leads = match shared.backend.leader_elect(params).await {
            Ok(leads) => leads,
            Err(error) => {
                tracing::warn!(%error, "leader election failed; acting as a follower until it succeeds");
                false
            }
        };
        is_leader.send_if_modified(|current| {
            let changed = *current != leads;
            if changed {
                tracing::info!(worker = %shared.id, leader = leads, "leadership changed");
            }
            *current = leads;
            changed
        });
    }
    if *is_leader.borrow() {
        is_leader.send_replace(false);
        let params = LeaderResignParams {
            worker_id: &shared.id,
        };
        if let Err(error) = shared.backend.leader_resign(params).await {
            tracing::warn!(%error, "could not resign leadership; it lapses when its term ends");
        }
    }
}
