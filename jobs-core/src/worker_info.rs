//! Live workers as the client sees them (`Client::workers`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One queue a worker serves, with its concurrency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkerQueue {
    /// The queue's name.
    pub name: String,
    /// How many of its jobs the worker runs at once.
    pub concurrency: u32,
}

/// A live worker: one that heartbeats into the store. A worker that stops
/// (shut down, killed, cut off) is no longer listed once its lease ends.
///
/// Backends build it with a struct literal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// The worker's id, as recorded in job leases and logs
    /// (`hostname-pid-random`).
    pub id: String,
    /// The host it runs on.
    pub hostname: String,
    /// Its process id on that host.
    pub pid: u32,
    /// The queues it serves, in the order given to its builder.
    pub queues: Vec<WorkerQueue>,
    /// Attempts it is running now, as of its last heartbeat.
    pub running: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat, by the store's clock.
    pub last_seen_at: DateTime<Utc>,
}

impl WorkerInfo {
    /// Whether it serves `queue`.
    pub fn serves(&self, queue: &str) -> bool {
        self.queues.iter().any(|served| served.name == queue)
    }
}
