//! Counters through the `metrics` facade, with handles made once per
//! (queue, kind) so the hot path does not build label sets per job (each
//! queue keeps its kinds' handles; see `queue.rs`).

use std::sync::Arc;

use metrics::{Counter, Key, Label, Level, Metadata, counter};

/// The names of the counters and gauges the worker and client record
/// through the `metrics` facade.
pub mod names {
    /// Jobs stored by `Client` (label `kind`).
    pub const ENQUEUED: &str = "jobs_enqueued_total";
    /// Attempts started (labels `queue`, `kind`).
    pub const STARTED: &str = "jobs_started_total";
    /// Attempts that succeeded.
    pub const SUCCEEDED: &str = "jobs_succeeded_total";
    /// Attempts that failed (error, panic or timeout), whatever follows.
    pub const FAILED: &str = "jobs_failed_total";
    /// Failed attempts that will be retried.
    pub const RETRIED: &str = "jobs_retried_total";
    /// Jobs that went `Dead`.
    pub const DEAD: &str = "jobs_dead_total";
    /// Jobs per queue and state (gauge, labels `queue`, `state`), sampled by
    /// the leader.
    pub const QUEUE_DEPTH: &str = "jobs_queue_depth";
    /// Seconds since the oldest available job of a queue became due (gauge,
    /// label `queue`; 0 when none waits), sampled by the leader.
    pub const QUEUE_LAG: &str = "jobs_queue_lag_seconds";
}

#[derive(Clone)]
pub(crate) struct JobCounters {
    pub(crate) started: Counter,
    pub(crate) succeeded: Counter,
    pub(crate) failed: Counter,
    pub(crate) retried: Counter,
    pub(crate) dead: Counter,
}

impl JobCounters {
    pub(crate) fn new(queue: &Arc<str>, kind: &'static str) -> Self {
        let make =
            |name: &'static str| counter!(name, "queue" => Arc::clone(queue), "kind" => kind);
        Self {
            started: make(names::STARTED),
            succeeded: make(names::SUCCEEDED),
            failed: make(names::FAILED),
            retried: make(names::RETRIED),
            dead: make(names::DEAD),
        }
    }
}

/// The `kind` label of a kind's counters, made at compile time.
pub const fn kind_label(kind: &'static str) -> Label {
    Label::from_static_parts("kind", kind)
}

/// The key of a kind's `jobs_enqueued_total` counter, `labels` being its
/// [`kind_label`]: what `#[job]` stores in the kind's definition.
pub const fn enqueued_metric_key(labels: &'static [Label]) -> Key {
    Key::from_static_parts(names::ENQUEUED, labels)
}

/// Counts `jobs` enqueued jobs under a key made beforehand, with what
/// `counter!` would register: the recorder installed now (a local one
/// first), so one installed after the client was made still sees them.
pub(crate) fn count_enqueued(key: &Key, jobs: u64) {
    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA)).increment(jobs);
}
