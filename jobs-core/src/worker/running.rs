//! The attempts this worker is running now.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;

use crate::JobId;
use crate::context::Progress;

/// One running attempt.
#[derive(Debug)]
struct Run {
    attempt: u32,
    cancellation: CancellationToken,
    progress: Progress,
    /// The progress last written to the store.
    reported: Option<f32>,
}

/// Running attempts: heartbeats renew their leases and write their progress;
/// client cancellation fires their tokens.
#[derive(Debug, Default)]
pub(crate) struct RunningJobs {
    runs: Mutex<HashMap<JobId, Run>>,
}

impl RunningJobs {
    pub(crate) fn insert(
        &self,
        id: JobId,
        attempt: u32,
        cancellation: CancellationToken,
        progress: Progress,
    ) {
        self.lock().insert(
            id,
            Run {
                attempt,
                cancellation,
                progress,
                reported: None,
            },
        );
    }

    pub(crate) fn remove(&self, id: JobId) {
        self.lock().remove(&id);
    }

    /// Every running attempt, for the heartbeat.
    pub(crate) fn snapshot(&self) -> Vec<(JobId, u32)> {
        self.lock()
            .iter()
            .map(|(id, run)| (*id, run.attempt))
            .collect()
    }

    /// The progress reported since the last call, taken as written.
    pub(crate) fn progress_changes(&self) -> Vec<(JobId, u32, f32)> {
        let mut changes = Vec::new();
        for (id, run) in self.lock().iter_mut() {
            let current = run.progress.get();
            if current != run.reported {
                if let Some(progress) = current {
                    changes.push((*id, run.attempt, progress));
                }
                run.reported = current;
            }
        }
        changes
    }

    /// Fires one run's cancellation.
    pub(crate) fn cancel(&self, id: JobId) {
        if let Some(run) = self.lock().get(&id) {
            run.cancellation.cancel();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<JobId, Run>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
