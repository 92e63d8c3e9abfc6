//! The live workers: one entry per worker, replaced at each heartbeat,
//! listed while its lease runs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jobs_core::WorkerInfo;
use jobs_core::backend::{WorkerHeartbeatParams, after};

/// Workers by id, each with the end of its lease.
#[derive(Debug, Default)]
pub(crate) struct Workers {
    by_id: BTreeMap<Box<str>, (WorkerInfo, DateTime<Utc>)>,
}

impl Workers {
    /// Inserts or replaces a worker, seen `now`.
    pub(crate) fn heartbeat(&mut self, params: &WorkerHeartbeatParams<'_>, now: DateTime<Utc>) {
        let info = WorkerInfo {
            id: params.id.to_owned(),
            hostname: params.hostname.to_owned(),
            pid: params.pid,
            queues: params.queues.to_vec(),
            running: params.running,
            started_at: params.started_at,
            last_seen_at: now,
        };
        let until = after(now, params.lease);
        self.by_id.insert(params.id.into(), (info, until));
    }

    /// The workers whose lease has not ended by `now`, by id.
    pub(crate) fn live(&self, now: DateTime<Utc>) -> Vec<WorkerInfo> {
        self.by_id
            .values()
            .filter(|(_, until)| *until > now)
            .map(|(info, _)| info.clone())
            .collect()
    }

    /// Forgets a worker; whether it was known.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        self.by_id.remove(id).is_some()
    }

    /// Forgets the workers whose lease ended by `now`; how many.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) -> u64 {
        let before = self.by_id.len();
        self.by_id.retain(|_, (_, until)| *until > now);
        (before - self.by_id.len()) as u64
    }
}
