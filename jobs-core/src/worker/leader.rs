//! Leader election: one worker among many runs the cron scheduler and
//! backend maintenance. The term is renewed every third of its length; a
//! leader that dies is replaced when its term runs out.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

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
        let leads = match shared.backend.leader_elect(&shared.id, ttl).await {
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
        if let Err(error) = shared.backend.leader_resign(&shared.id).await {
            tracing::warn!(%error, "could not resign leadership; it lapses when its term ends");
        }
    }
}

/// Waits until this worker leads (or `stop` fires; then returns `false`).
pub(crate) async fn wait_for_leadership(
    is_leader: &mut watch::Receiver<bool>,
    stop: &CancellationToken,
) -> bool {
    tokio::select! {
        result = is_leader.wait_for(|leads| *leads) => result.is_ok(),
        () = stop.cancelled() => false,
    }
}
