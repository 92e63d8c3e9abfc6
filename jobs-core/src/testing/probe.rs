//! What the suite's jobs saw, recorded for the cases to assert on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::{JobContext, JobId};

/// One run of a suite job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: String,
    /// The attempt number the run saw.
    pub attempt: u32,
    /// What the job chose to record (an argument, usually).
    pub label: String,
    /// When the run started.
    pub at: DateTime<Utc>,
}

/// Shared recorder given to the worker as `State<Probe>`.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    inner: Arc<Mutex<ProbeInner>>,
}

#[derive(Debug, Default)]
struct ProbeInner {
    runs: Vec<Run>,
    running: usize,
    max_running: usize,
    /// Runs in progress per key ([`Probe::enter_keyed`]), and the most seen.
    running_by_key: HashMap<String, usize>,
    max_running_by_key: HashMap<String, usize>,
    /// The most keys with a run in progress at once.
    max_keys_running: usize,
}

impl Probe {
    /// Records a run; returns how many runs this job has had, this one
    /// included.
    pub fn record(&self, ctx: &JobContext, label: impl Into<String>) -> usize {
        let mut inner = self.lock();
        inner.runs.push(Run {
            id: ctx.id(),
            kind: ctx.kind().to_owned(),
            attempt: ctx.attempt(),
            label: label.into(),
            at: Utc::now(),
        });
        inner.runs.iter().filter(|run| run.id == ctx.id()).count()
    }

    /// Marks a run as in progress until the guard drops (for concurrency
    /// limits).
    pub fn enter(&self) -> RunningGuard {
        let mut inner = self.lock();
        inner.running += 1;
        inner.max_running = inner.max_running.max(inner.running);
        RunningGuard {
            probe: self.clone(),
        }
    }

    /// Marks a run under `key` as in progress until the guard drops (for
    /// flow-control limits: an in-flight count and the most seen, per key).
    pub fn enter_keyed(&self, key: &str) -> KeyedGuard {
        let mut inner = self.lock();
        let running = inner.running_by_key.entry(key.to_owned()).or_default();
        *running += 1;
        let running = *running;
        let max = inner.max_running_by_key.entry(key.to_owned()).or_default();
        *max = (*max).max(running);
        let keys = inner.running_by_key.values().filter(|&&n| n > 0).count();
        inner.max_keys_running = inner.max_keys_running.max(keys);
        KeyedGuard {
            probe: self.clone(),
            key: key.to_owned(),
        }
    }

    /// The most runs under `key` in progress at once.
    pub fn max_running_of(&self, key: &str) -> usize {
        self.lock()
            .max_running_by_key
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// The most keys with a run in progress at once.
    pub fn max_keys_running(&self) -> usize {
        self.lock().max_keys_running
    }

    /// Every run so far, in order.
    pub fn runs(&self) -> Vec<Run> {
        self.lock().runs.clone()
    }

    /// The runs of one job.
    pub fn runs_of(&self, id: JobId) -> Vec<Run> {
        self.lock()
            .runs
            .iter()
            .filter(|run| run.id == id)
            .cloned()
            .collect()
    }

    /// The most runs in progress at once.
    pub fn max_running(&self) -> usize {
        self.lock().max_running
    }

    fn lock(&self) -> MutexGuard<'_, ProbeInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Ends a run started with [`Probe::enter`].
#[derive(Debug)]
pub struct RunningGuard {
    probe: Probe,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.probe.lock().running -= 1;
    }
}

/// Ends a run started with [`Probe::enter_keyed`].
#[derive(Debug)]
pub struct KeyedGuard {
    probe: Probe,
    key: String,
}

impl Drop for KeyedGuard {
    fn drop(&mut self) {
        if let Some(running) = self.probe.lock().running_by_key.get_mut(&self.key) {
            *running -= 1;
        }
    }
}
