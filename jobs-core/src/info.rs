//! What a client can read back about stored jobs.

use std::collections::BTreeMap;
use std::ops::Index;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{BatchId, JobId, JobState};

/// A queue as [`Client::queues`](crate::Client::queues) lists it: every
/// queue that holds jobs or was ever paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueueInfo {
    /// The queue's name.
    pub name: String,
    /// Whether it is paused: it accepts jobs, but no worker starts one
    /// until it is resumed.
    pub paused: bool,
}

impl QueueInfo {
    /// A queue's entry (for backends).
    pub fn new(name: impl Into<String>, paused: bool) -> Self {
        Self {
            name: name.into(),
            paused,
        }
    }
}

/// One failed attempt, kept in a job's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    /// The attempt that failed, counting from 1.
    pub attempt: u32,
    /// The error's message (a panic's payload, "timed out after 5s", ...).
    pub message: String,
    /// When the attempt failed.
    pub at: DateTime<Utc>,
}

/// A stored job as the client sees it.
///
/// Backends build it with a struct literal; fields may be added in a minor
/// release only together with a `Default`-based constructor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The job's id.
    pub id: JobId,
    /// The kind name (`#[job(name = ..)]`, by default the function's name).
    pub kind: String,
    /// The queue it runs on.
    pub queue: String,
    /// The arguments, as stored: a JSON object keyed by parameter name.
    pub args: serde_json::Value,
    /// Where it is in its life cycle.
    pub state: JobState,
    /// Attempts started so far.
    pub attempt: u32,
    /// The most attempts it may take (`retries + 1`).
    pub max_attempts: u32,
    /// Lower runs first within a queue.
    pub priority: i16,
    /// Every failed attempt, oldest first.
    pub errors: Vec<AttemptError>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it may run (next): the enqueue time, a delay, or a retry's backoff.
    pub scheduled_at: DateTime<Utc>,
    /// When its current or last attempt started.
    pub attempted_at: Option<DateTime<Utc>>,
    /// When it reached `Completed`, `Dead` or `Cancelled`.
    pub finished_at: Option<DateTime<Utc>>,
    /// The uniqueness key, for unique jobs.
    pub unique_key: Option<String>,
    /// The last progress a run reported with `JobContext::set_progress`
    /// (0.0 to 1.0), written at the worker's heartbeats.
    pub progress: Option<f32>,
    /// The jobs it waits for (`.after(id)`, `.after_finished(id)`, or every
    /// job of a batch for its `on_success` and `on_complete`), in the order
    /// given.
    #[serde(default)]
    pub parents: Vec<JobId>,
    /// The batch it belongs to.
    #[serde(default)]
    pub batch: Option<BatchId>,
}

/// Which jobs [`Client::list`](crate::Client::list) returns.
///
/// ```
/// use jobs_core::{JobFilter, JobState};
/// let filter = JobFilter::new().state(JobState::Dead).queue("critical").limit(20);
/// assert_eq!(filter.limit, 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs on this queue.
    pub queue: Option<String>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
    /// Only the jobs of this batch.
    pub batch: Option<BatchId>,
    /// At most this many jobs (default 100).
    pub limit: usize,
    /// Skip this many matching jobs first (paging).
    pub offset: usize,
}

impl Default for JobFilter {
    fn default() -> Self {
        Self {
            state: None,
            queue: None,
            kind: None,
            batch: None,
            limit: 100,
            offset: 0,
        }
    }
}

impl JobFilter {
    /// Every job, the first 100 by id.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only jobs in `state`.
    pub fn state(mut self, state: JobState) -> Self {
        self.state = Some(state);
        self
    }

    /// Only jobs on `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Only jobs of `kind` (for example `send_welcome_email::NAME`).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Only the jobs of batch `batch` (not its `on_success` and
    /// `on_complete` jobs).
    pub fn batch(mut self, batch: BatchId) -> Self {
        self.batch = Some(batch);
        self
    }

    /// At most `limit` jobs.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Skip the first `offset` matches.
    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    /// Whether a job with these attributes matches.
    pub fn matches(&self, state: JobState, queue: &str, kind: &str) -> bool {
        self.state.is_none_or(|s| s == state)
            && self.queue.as_deref().is_none_or(|q| q == queue)
            && self.kind.as_deref().is_none_or(|k| k == kind)
    }
}

/// Job counts of one queue, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// Jobs waiting for their parents to finish.
    #[serde(default)]
    pub awaiting: u64,
    /// Jobs waiting for their scheduled time.
    pub scheduled: u64,
    /// Jobs ready to run.
    pub available: u64,
    /// Jobs running now.
    pub running: u64,
    /// Failed jobs waiting for their next attempt.
    pub retryable: u64,
    /// Finished jobs, kept for their retention period.
    pub completed: u64,
    /// Jobs that failed for good.
    pub dead: u64,
    /// Cancelled jobs.
    pub cancelled: u64,
    /// When the oldest `Available` job became due: how far behind the
    /// queue's workers are is now minus this.
    pub oldest_available_at: Option<DateTime<Utc>>,
}

impl QueueCounts {
    /// The count of one state.
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Awaiting => self.awaiting,
            JobState::Scheduled => self.scheduled,
            JobState::Available => self.available,
            JobState::Running => self.running,
            JobState::Retryable => self.retryable,
            JobState::Completed => self.completed,
            JobState::Dead => self.dead,
            JobState::Cancelled => self.cancelled,
        }
    }

    /// A mutable handle on one state's count.
    pub fn get_mut(&mut self, state: JobState) -> &mut u64 {
        match state {
            JobState::Awaiting => &mut self.awaiting,
            JobState::Scheduled => &mut self.scheduled,
            JobState::Available => &mut self.available,
            JobState::Running => &mut self.running,
            JobState::Retryable => &mut self.retryable,
            JobState::Completed => &mut self.completed,
            JobState::Dead => &mut self.dead,
            JobState::Cancelled => &mut self.cancelled,
        }
    }

    /// Jobs not finished yet.
    pub fn pending(&self) -> u64 {
        self.awaiting + self.scheduled + self.available + self.running + self.retryable
    }
}

/// Job counts per queue and state, from [`Client::counts`](crate::Client::counts).
///
/// ```
/// use jobs_core::{Counts, JobState};
/// let mut counts = Counts::default();
/// counts.add("default", JobState::Available, 3);
/// assert_eq!(counts.get("default", JobState::Available), 3);
/// assert_eq!(counts["default"].available, 3);
/// assert_eq!(counts["critical"].available, 0); // unknown queues count zero
/// assert_eq!(counts.total(JobState::Available), 3);
/// assert_eq!(counts["default"].oldest_available_at, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    queues: BTreeMap<String, QueueCounts>,
}

static ZERO: QueueCounts = QueueCounts {
    awaiting: 0,
    scheduled: 0,
    available: 0,
    running: 0,
    retryable: 0,
    completed: 0,
    dead: 0,
    cancelled: 0,
    oldest_available_at: None,
};

impl Counts {
    /// The count of `state` on `queue` (zero for a queue never seen).
    pub fn get(&self, queue: &str, state: JobState) -> u64 {
        self.queue(queue).get(state)
    }

    /// The counts of one queue.
    pub fn queue(&self, queue: &str) -> &QueueCounts {
        self.queues.get(queue).unwrap_or(&ZERO)
    }

    /// The count of `state` over every queue.
    pub fn total(&self, state: JobState) -> u64 {
        self.queues.values().map(|q| q.get(state)).sum()
    }

    /// Each queue with its counts, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &QueueCounts)> {
        self.queues
            .iter()
            .map(|(name, counts)| (name.as_str(), counts))
    }

    /// Adds `n` jobs of `state` on `queue` (for backends building a count).
    pub fn add(&mut self, queue: &str, state: JobState, n: u64) {
        *self.queue_mut(queue).get_mut(state) += n;
    }

    /// Records when the oldest available job of `queue` became due (for
    /// backends building a count); the earliest of several calls wins.
    pub fn note_oldest_available(&mut self, queue: &str, due: DateTime<Utc>) {
        let counts = self.queue_mut(queue);
        counts.oldest_available_at = Some(
            counts
                .oldest_available_at
                .map_or(due, |known| known.min(due)),
        );
    }

    /// These counts without the finished states: each queue's `completed`,
    /// `dead` and `cancelled` set to zero, and the queues left with no
    /// job dropped.
    ///
    /// ```
    /// use jobs_core::{Counts, JobState};
    /// let mut counts = Counts::default();
    /// counts.add("mail", JobState::Available, 2);
    /// counts.add("mail", JobState::Completed, 5);
    /// counts.add("old", JobState::Dead, 1);
    /// let unfinished = counts.unfinished();
    /// assert_eq!(unfinished["mail"].available, 2);
    /// assert_eq!(unfinished["mail"].completed, 0);
    /// assert_eq!(unfinished.iter().count(), 1); // "old" is gone
    /// ```
    pub fn unfinished(mut self) -> Counts {
        self.queues.retain(|_, counts| {
            for state in JobState::ALL.into_iter().filter(|s| s.is_finished()) {
                *counts.get_mut(state) = 0;
            }
            counts.pending() > 0
        });
        self
    }

    fn queue_mut(&mut self, queue: &str) -> &mut QueueCounts {
        self.queues.entry(queue.to_owned()).or_default()
    }
}

impl Index<&str> for Counts {
    type Output = QueueCounts;

    fn index(&self, queue: &str) -> &QueueCounts {
        self.queue(queue)
    }
}

/// A stored recurring schedule as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScheduleInfo {
    /// The stable schedule id.
    pub id: String,
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone it is read in.
    pub tz: String,
    /// The job kind each tick enqueues.
    pub kind: String,
    /// The queue of those jobs.
    pub queue: String,
    /// The next tick not yet enqueued.
    pub next_run_at: DateTime<Utc>,
    /// When a tick last enqueued a job.
    pub last_run_at: Option<DateTime<Utc>>,
    /// No live worker vouches for this schedule: for a `#[recurring]` one,
    /// the binaries that declared it have stopped or no longer link it;
    /// for a run-time one, no live worker runs its job kind. It still
    /// ticks.
    pub orphaned: bool,
    /// What happens to ticks missed while no worker ran.
    pub misfire: crate::Misfire,
    /// Declared by a `#[recurring]` function, or defined at run time with
    /// `Client::upsert_schedule`.
    pub origin: crate::ScheduleOrigin,
}

impl ScheduleInfo {
    pub(crate) fn of(stored: crate::backend::StoredSchedule, now: DateTime<Utc>) -> Self {
        let spec = stored.spec;
        Self {
            id: spec.id,
            cron: spec.cron,
            tz: spec.tz,
            kind: spec.job.kind,
            queue: spec.job.queue,
            next_run_at: stored.next_run_at,
            last_run_at: stored.last_run_at,
            orphaned: stored.declared_until < now,
            misfire: spec.misfire,
            origin: spec.origin,
        }
    }
}

/// How many jobs finished in one minute, from
/// [`Client::finished_per_minute`](crate::Client::finished_per_minute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedMinute {
    /// The minute's start.
    pub minute: DateTime<Utc>,
    /// Jobs that ended `Completed` in it.
    pub completed: u64,
    /// Jobs that ended `Dead` or `Cancelled` in it.
    pub failed: u64,
}
