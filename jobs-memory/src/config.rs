//! The memory backend's settings and their defaults.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jobs_core::{Clock, SystemClock};

/// How many unfinished jobs a [`MemoryBackend::new`](crate::MemoryBackend::new)
/// holds before `enqueue` waits and `try_enqueue` fails.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The most finished jobs kept at once; beyond it the oldest are deleted.
pub const DEFAULT_MAX_FINISHED: usize = 100_000;

/// The settings one backend's store runs with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) capacity: usize,
    pub(crate) max_finished: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Config {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
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
