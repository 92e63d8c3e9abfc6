//! The attempts this worker is running now.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

use crate::JobId;

/// Running attempts and their cancellation tokens: heartbeats renew their
/// leases, shutdown and client cancellation fire their tokens.
#[derive(Debug, Default)]
pub(crate) struct RunningJobs {
    jobs: Mutex<HashMap<JobId, (u32, CancellationToken)>>,
}

impl RunningJobs {
    pub(crate) fn insert(&self, id: JobId, attempt: u32, token: CancellationToken) {
        self.lock().insert(id, (attempt, token));
    }

    pub(crate) fn remove(&self, id: JobId) {
        self.lock().remove(&id);
    }

    /// Every running attempt, for the heartbeat.
    pub(crate) fn snapshot(&self) -> Vec<(JobId, u32)> {
        self.lock()
            .iter()
            .map(|(id, (attempt, _))| (*id, *attempt))
            .collect()
    }

    /// Fires one run's cancellation.
    pub(crate) fn cancel(&self, id: JobId) {
        if let Some((_, token)) = self.lock().get(&id) {
            token.cancel();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, (u32, CancellationToken)>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
