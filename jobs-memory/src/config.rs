//! The memory backend's settings and their defaults.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::{Clock, SystemClock};

/// How many unfinished jobs a [`MemoryBackend::new`](crate::MemoryBackend::new)
/// holds before `enqueue` waits and `try_enqueue` fails.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// How long a `Completed` job is kept before maintenance deletes it.
pub const DEFAULT_RETENTION_COMPLETED: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a `Dead` or `Cancelled` job is kept before maintenance deletes it.
pub const DEFAULT_RETENTION_FAILED: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The most finished jobs kept at once; beyond it the oldest are deleted.
pub const DEFAULT_MAX_FINISHED: usize = 100_000;

/// The settings one backend's store runs with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) capacity: usize,
    pub(crate) retention_completed: Duration,
    pub(crate) retention_failed: Duration,
    pub(crate) max_finished: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Config {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            retention_completed: DEFAULT_RETENTION_COMPLETED,
            retention_failed: DEFAULT_RETENTION_FAILED,
            max_finished: DEFAULT_MAX_FINISHED,
            clock: Arc::new(SystemClock),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

/// `at + span`, saturating at the end of time instead of overflowing.
pub(crate) fn after(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| at.checked_add_signed(span))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `at - span`, saturating at the start of time instead of overflowing.
pub(crate) fn before(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| at.checked_sub_signed(span))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
