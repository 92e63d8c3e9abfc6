//! The storage seam: what a backend must do for the client and the worker.
//!
//! Methods are named noun-then-verb (`job_insert_many`, `job_fetch`,
//! `schedule_advance`). The behaviour every backend must show is defined by
//! the conformance suite in [`testing`](crate::testing) (feature `testing`),
//! not by prose: a backend that passes it works with the worker.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::wake::Wakeup;
use crate::{AttemptError, BoxError, Counts, EnqueueError, JobFilter, JobId, JobInfo};

/// A job to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// The kind name.
    pub kind: Cow<'static, str>,
    /// The queue, already validated.
    pub queue: Cow<'static, str>,
    /// The arguments as JSON text (an object keyed by parameter name).
    pub args: String,
    /// Lower runs first within a queue.
    pub priority: i16,
    /// The most attempts.
    pub max_attempts: u32,
    /// When it may run; `None` means now. A time in the future makes the job
    /// `Scheduled`, otherwise it is `Available`.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// For unique jobs: while an unfinished job of the same kind has the same
    /// key, inserting returns that job's id and stores nothing.
    pub unique_key: Option<String>,
}

/// Whether an insert into a full backend waits or fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertMode {
    /// Wait for room (backpressure).
    Wait,
    /// Fail at once with [`EnqueueError::QueueFull`].
    Try,
}

/// What a worker asks for when it has free slots.
#[derive(Clone, Copy, Debug)]
pub struct FetchRequest<'a> {
    /// The queue to take jobs from.
    pub queue: &'a str,
    /// Only these kinds: jobs of a kind the worker does not know stay
    /// `Available` for a worker that does. The names of the linked job
    /// definitions, so a backend can hand them back without copying.
    pub kinds: &'a [&'static str],
    /// At most this many jobs.
    pub limit: usize,
    /// Who takes them, for leases and diagnostics.
    pub worker_id: &'a str,
    /// How long the lease lasts before a heartbeat must renew it.
    pub lease: Duration,
}

/// A job claimed by a worker: now `Running`, its attempt counted. Of the
/// queue the request named.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedJob {
    /// The job's id.
    pub id: JobId,
    /// The kind name: the request's own `&'static str` (a worker claims a
    /// thousand jobs at a time; copying each name would cost an allocation
    /// per job).
    pub kind: Cow<'static, str>,
    /// The arguments as JSON text.
    pub args: String,
    /// This attempt's number (counting from 1), the fencing token of its
    /// completion.
    pub attempt: u32,
    /// The most attempts.
    pub max_attempts: u32,
    /// When the job was enqueued.
    pub created_at: DateTime<Utc>,
    /// When the job was due to run.
    pub scheduled_at: DateTime<Utc>,
}

/// The jobs a fetch claimed, and a hint for when to look again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchedBatch {
    /// The claimed jobs, best first (priority, then scheduled time, then id).
    pub jobs: Vec<FetchedJob>,
    /// The earliest time a not-yet-due job of this queue becomes due, if the
    /// backend knows it cheaply; the fetch loop sleeps no longer than that.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// How an attempt ended, as the worker reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The job.
    pub id: JobId,
    /// The attempt that ended. Backends apply a completion only while the
    /// job is `Running` at this same attempt, so a stale worker cannot
    /// overwrite a newer attempt's outcome.
    pub attempt: u32,
    /// What happens next.
    pub outcome: Outcome,
}

/// What happens to a job after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Succeeded: `Completed`.
    Completed,
    /// Failed with attempts left: `Retryable` until `at`, error recorded.
    Retry {
        /// When the next attempt may start.
        at: DateTime<Utc>,
        /// The failed attempt's error.
        error: AttemptError,
    },
    /// Failed for good: `Dead`, error recorded.
    Dead {
        /// The last attempt's error.
        error: AttemptError,
    },
    /// Snoozed: `Scheduled` until `at`, and the attempt is not counted.
    Snooze {
        /// When to run again.
        at: DateTime<Utc>,
    },
    /// Cancelled by the job: `Cancelled`, reason recorded.
    Cancelled {
        /// Why.
        error: AttemptError,
    },
    /// Not finished at shutdown: back to `Available`, the attempt not counted.
    Release,
}

/// A recurring schedule as declared by a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleSpec {
    /// The stable id.
    pub id: String,
    /// The job kind each tick enqueues.
    pub kind: String,
    /// The cron expression.
    pub cron: String,
    /// The IANA zone.
    pub tz: String,
}

/// A recurring schedule as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSchedule {
    /// The declared schedule.
    pub spec: ScheduleSpec,
    /// The next tick not yet enqueued.
    pub next_run_at: DateTime<Utc>,
    /// When a tick last enqueued a job.
    pub last_run_at: Option<DateTime<Utc>>,
}

/// What a maintenance pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Running jobs whose lease expired, put back or marked dead.
    pub rescued: u64,
    /// Finished jobs deleted after their retention period.
    pub pruned: u64,
}

/// A job store: the memory backend, PostgreSQL, or your own.
///
/// Every method that touches a job by id is a no-op returning `false` (or
/// nothing) when the job does not exist or is not in a state the operation
/// applies to; errors are for storage failures only.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Stores jobs in order and returns their ids (for a unique job that
    /// already exists, the existing id). All or nothing.
    async fn job_insert_many(
        &self,
        jobs: Vec<NewJob>,
        mode: InsertMode,
    ) -> Result<Vec<JobId>, EnqueueError>;

    /// Claims up to `limit` due jobs of the given queue and kinds: they become
    /// `Running`, their attempt grows by one and a lease starts.
    async fn job_fetch(&self, request: FetchRequest<'_>) -> Result<FetchedBatch, BoxError>;

    /// Applies attempt outcomes, each fenced by its attempt number.
    async fn job_complete_many(&self, completions: Vec<Completion>) -> Result<(), BoxError>;

    /// Renews the leases of running attempts. Returns those of them that are
    /// no longer running at that attempt (cancelled through the client,
    /// rescued, deleted): the worker cancels their runs.
    async fn job_heartbeat(
        &self,
        running: &[(JobId, u32)],
        lease: Duration,
    ) -> Result<Vec<JobId>, BoxError>;

    /// Checks that this binary can use the store: for a database, that its
    /// schema exists and is not newer than this version knows. A worker
    /// runs nothing until this passes, and `Worker::run_until` returns its
    /// error instead of starting. The default accepts.
    async fn check(&self) -> Result<(), BoxError> {
        Ok(())
    }

    /// Records the progress runs reported (`JobContext::set_progress`), each
    /// fenced by its attempt like a completion. Called by the heartbeat for
    /// runs whose progress changed. The default stores nothing.
    async fn job_progress_many(&self, progress: &[(JobId, u32, f32)]) -> Result<(), BoxError> {
        let _ = progress;
        Ok(())
    }

    /// A wake-up handle that fires when jobs may have become available on
    /// `queue`. A backend without push notifications returns one that never
    /// fires; workers then poll.
    fn job_wakeup(&self, queue: &str) -> Wakeup;

    /// One job.
    async fn job_get(&self, id: JobId) -> Result<Option<JobInfo>, BoxError>;

    /// Jobs matching the filter, by id.
    async fn job_list(&self, filter: &JobFilter) -> Result<Vec<JobInfo>, BoxError>;

    /// Job counts per queue and state.
    async fn job_counts(&self) -> Result<Counts, BoxError>;

    /// Makes a `Dead`, `Cancelled`, `Retryable` or `Scheduled` job
    /// `Available` now, allowing it one more attempt if its attempts are
    /// spent. Returns whether it changed.
    async fn job_retry(&self, id: JobId) -> Result<bool, BoxError>;

    /// Cancels a job that has not finished. A running one becomes
    /// `Cancelled` at once; its worker learns of it at the next heartbeat and
    /// its late completion is ignored. Returns whether it changed.
    async fn job_cancel(&self, id: JobId) -> Result<bool, BoxError>;

    /// Deletes a job that is not running. Returns whether it existed.
    async fn job_delete(&self, id: JobId) -> Result<bool, BoxError>;

    /// Stores a declared schedule. A new id starts at `next_run_at`; a known
    /// id whose cron or zone changed is updated and restarts at
    /// `next_run_at`; an unchanged one keeps its stored next tick, so ticks
    /// missed while no worker ran can be handled by the misfire policy.
    async fn schedule_upsert(
        &self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
    ) -> Result<StoredSchedule, BoxError>;

    /// Every stored schedule.
    async fn schedule_list(&self) -> Result<Vec<StoredSchedule>, BoxError>;

    /// Atomically: if schedule `id`'s next tick is still `expected_next`,
    /// sets it to `next_run_at`, records now as its last run and inserts
    /// `jobs`; otherwise changes nothing. Returns whether it applied. This
    /// compare-and-set is what makes each tick produce one job however many
    /// workers race for it.
    async fn schedule_advance(
        &self,
        id: &str,
        expected_next: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
        jobs: Vec<NewJob>,
    ) -> Result<bool, BoxError>;

    /// Deletes a stored schedule. Returns whether it existed.
    async fn schedule_remove(&self, id: &str) -> Result<bool, BoxError>;

    /// Tries to become (or stay) the leader that runs the cron scheduler and
    /// maintenance for `ttl`. A single-process backend may always say yes.
    async fn leader_elect(&self, worker_id: &str, ttl: Duration) -> Result<bool, BoxError>;

    /// Gives up leadership if held (at shutdown).
    async fn leader_resign(&self, worker_id: &str) -> Result<(), BoxError>;

    /// One maintenance pass, run by the leader: rescue expired leases, prune
    /// finished jobs past their retention.
    async fn maintain(&self) -> Result<MaintenanceReport, BoxError>;
}
