//! What the [`Backend`](super::Backend) methods take and return: one params
//! struct per method (River's driver style), so no call passes a tuple of
//! ids and attempts or two adjacent arguments of one type.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cron::Misfire;
use crate::schedule::ScheduleOrigin;
use crate::{AttemptError, BatchId, JobId, JobState, WorkerQueue};

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
    /// The version of the kind it was enqueued with (`#[job(version = N)]`,
    /// 1 by default): stored with the job, so a worker never claims a job
    /// newer than it knows and upgrades an older one before decoding it.
    pub version: u32,
    /// When it may run; `None` means now. A time in the future makes the job
    /// `Scheduled`, otherwise it is `Available`.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// For unique jobs: while an unfinished job of the same kind has the same
    /// key, inserting returns that job's id and stores nothing.
    pub unique_key: Option<String>,
    /// The jobs it waits for (`.after(id)`, `.after_finished(id)`): while
    /// one of them has not met its condition the job is `Awaiting`. Empty
    /// for almost every job.
    pub parents: Vec<JobParent>,
    /// The batch it belongs to; set by the backend's batch insert.
    pub batch: Option<BatchId>,
    /// For a kind with `concurrency_key`: the value of that argument, as
    /// JSON text; the concurrency limit holds per value.
    pub concurrency_key: Option<String>,
}

/// What a waiting job needs of one parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParentCondition {
    /// The parent must end `Completed` (`.after(id)`); if it ends `Dead` or
    /// `Cancelled`, or is deleted, the child is cancelled.
    Completed,
    /// The parent must finish, whatever the outcome (`.after_finished(id)`).
    Finished,
}

/// One parent of a waiting job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobParent {
    /// The parent's id.
    pub id: JobId,
    /// What the child needs of it.
    pub condition: ParentCondition,
}

/// Whether an insert into a full backend waits or fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertMode {
    /// Wait for room (backpressure).
    Wait,
    /// Fail at once with [`EnqueueError::QueueFull`](crate::EnqueueError::QueueFull).
    Try,
}

/// [`Backend::job_insert_many`](super::Backend::job_insert_many).
#[derive(Clone, Debug, PartialEq)]
pub struct JobInsertManyParams {
    /// The jobs, in order.
    pub jobs: Vec<NewJob>,
    /// What a full backend does.
    pub mode: InsertMode,
}

/// [`Backend::job_fetch`](super::Backend::job_fetch): what a worker asks for
/// when it has free slots.
#[derive(Clone, Copy, Debug)]
pub struct JobFetchParams<'a> {
    /// The queue to take jobs from.
    pub queue: &'a str,
    /// Only these kinds: jobs of a kind the worker does not know stay
    /// `Available` for a worker that does. The names of the linked job
    /// definitions, so a backend can hand them back without copying.
    pub kinds: &'a [&'static str],
    /// For each of `kinds`, at the same index, the highest version of that
    /// kind the worker knows: a job stored with a newer version stays
    /// `Available` for a worker that knows it (a rolling deploy), as a job
    /// of an unknown kind does, and never holds back older jobs of its kind.
    /// Shorter than `kinds` means 1 for the kinds without an entry.
    pub versions: &'a [u32],
    /// At most this many jobs.
    pub limit: usize,
    /// Who takes them, for leases and diagnostics.
    pub worker_id: &'a str,
    /// How long the lease lasts before a heartbeat must renew it.
    pub lease: Duration,
    /// The flow-control limits of a limited kind (SPEC §11), or `None` for
    /// the usual claim. With a limit, `kinds` is that one kind and the
    /// backend claims only what the limit leaves room for, atomically with
    /// every other limited claim of the kind (see the
    /// [module docs](super#flow-control)). jobs-core never puts a limited
    /// kind into an unlimited fetch.
    pub flow: Option<FlowLimits>,
}

/// At most `max` attempts of a kind run at once, across every worker
/// (`#[job(concurrency = N)]`); with a `key`, per value of that argument
/// (`concurrency_key = "arg"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConcurrencyLimit {
    /// The most attempts running at once (at least 1).
    pub max: u32,
    /// The argument the limit is kept per value of; its value is stored
    /// with each job as [`NewJob::concurrency_key`].
    pub key: Option<&'static str>,
}

/// At most `max` attempts of a kind start in any window of `per`, across
/// every worker (`#[job(rate_limit = "N/duration")]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// The most starts in one window (at least 1).
    pub max: u32,
    /// The window's length (not zero).
    pub per: Duration,
}

/// The limits a fetch of one limited kind must keep
/// ([`JobFetchParams::flow`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowLimits {
    /// How many may run at once, per kind or per key.
    pub concurrency: Option<ConcurrencyLimit>,
    /// How many may start in a sliding window.
    pub rate: Option<RateLimit>,
}

impl FlowLimits {
    /// Whether there is any limit.
    pub fn is_limited(&self) -> bool {
        self.concurrency.is_some() || self.rate.is_some()
    }
}

impl JobFetchParams<'_> {
    /// The highest version of `kinds[index]` the worker knows: its entry in
    /// `versions`, or 1 without one.
    pub fn max_version(&self, index: usize) -> u32 {
        self.versions.get(index).copied().unwrap_or(1)
    }
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
    /// The arguments as JSON text, shared: the run takes them without a
    /// copy (and a backend that keeps them in memory hands out its own).
    pub args: Arc<str>,
    /// This attempt's number (counting from 1), the fencing token of its
    /// outcome.
    pub attempt: u32,
    /// The most attempts.
    pub max_attempts: u32,
    /// The version of its kind the job was enqueued with.
    pub version: u32,
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
    /// For a fetch with a rate limit, also when a job the limit held back
    /// may start.
    pub next_due_at: Option<DateTime<Utc>>,
    /// For a fetch with a rate limit that held back due jobs: when the
    /// window next has room (the oldest start in it leaves). `None`
    /// otherwise.
    pub held_until: Option<DateTime<Utc>>,
}

/// One attempt of a job: the fencing token of everything a worker writes
/// about a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunningAttempt {
    /// The job.
    pub id: JobId,
    /// The attempt, counting from 1.
    pub attempt: u32,
}

/// What to store for a job leaving `Running`, decided by jobs-core: the
/// backend writes exactly this, nothing it works out itself.
#[derive(Clone, Debug, PartialEq)]
pub struct JobTransition {
    /// The run it ends. Applied only while the job is `Running` at this
    /// attempt, so a stale worker cannot overwrite a newer attempt's outcome.
    pub run: RunningAttempt,
    /// The new state: never `Running`.
    pub state: JobState,
    /// The new due time; `None` keeps the stored one.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// `false` gives the attempt back (attempt − 1): a snooze, or a job
    /// returned unstarted or interrupted at shutdown.
    pub attempt_counted: bool,
    /// Appended to the job's error history.
    pub error: Option<AttemptError>,
}

/// [`Backend::job_complete_many`](super::Backend::job_complete_many).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobCompleteManyParams {
    /// The transitions, each fenced by its run.
    pub transitions: Vec<JobTransition>,
}

/// [`Backend::job_heartbeat`](super::Backend::job_heartbeat).
#[derive(Clone, Copy, Debug)]
pub struct JobHeartbeatParams<'a> {
    /// The runs whose leases to renew.
    pub running: &'a [RunningAttempt],
    /// The new lease, from the backend's now.
    pub lease: Duration,
}

/// The progress one run reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProgressReport {
    /// The run.
    pub run: RunningAttempt,
    /// From 0.0 to 1.0.
    pub progress: f32,
}

/// [`Backend::job_progress_many`](super::Backend::job_progress_many).
#[derive(Clone, Copy, Debug)]
pub struct JobProgressManyParams<'a> {
    /// The reports, each fenced by its run.
    pub reports: &'a [ProgressReport],
}

/// [`Backend::job_expired_list`](super::Backend::job_expired_list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobExpiredListParams {
    /// At most this many, the longest expired first.
    pub limit: usize,
}

/// A `Running` job whose lease has expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiredJob {
    /// The run whose worker stopped renewing its lease.
    pub run: RunningAttempt,
    /// The kind, to find its retry policy.
    pub kind: String,
    /// The most attempts.
    pub max_attempts: u32,
    /// The worker that held it, if the backend records it.
    pub worker_id: Option<String>,
}

/// [`Backend::job_rescue_many`](super::Backend::job_rescue_many).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobRescueManyParams {
    /// The transitions, each applied only while its run is `Running` at that
    /// attempt and its lease is still expired.
    pub transitions: Vec<JobTransition>,
}

/// [`Backend::job_prune`](super::Backend::job_prune).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobPruneParams {
    /// Deletes `Completed` jobs that finished before this.
    pub completed_before: DateTime<Utc>,
    /// Deletes `Dead` and `Cancelled` jobs that finished before this.
    pub failed_before: DateTime<Utc>,
    /// At most this many in one call.
    pub limit: usize,
}

/// [`Backend::job_get`](super::Backend::job_get),
/// [`job_retry`](super::Backend::job_retry),
/// [`job_cancel`](super::Backend::job_cancel) and
/// [`job_delete`](super::Backend::job_delete): the job they act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobIdParams {
    /// The job.
    pub id: JobId,
}

/// The job each tick of a schedule enqueues: everything a worker that does
/// not link the job's code needs to store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledJob {
    /// The kind.
    pub kind: String,
    /// The queue.
    pub queue: String,
    /// The arguments as JSON text.
    pub args: String,
    /// Lower runs first within a queue.
    pub priority: i16,
    /// The most attempts.
    pub max_attempts: u32,
    /// The version of the kind, stored with each tick's job.
    pub version: u32,
}

/// A recurring schedule as defined: by a binary's `#[recurring]`, or at
/// run time with `Client::upsert_schedule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleSpec {
    /// The stable id.
    pub id: String,
    /// The cron expression.
    pub cron: String,
    /// The IANA zone.
    pub tz: String,
    /// What to do with ticks missed while no worker ran.
    pub misfire: Misfire,
    /// What each tick enqueues.
    pub job: ScheduledJob,
    /// Who defined it: a `#[recurring]` declaration (vouched for by id) or
    /// a run-time upsert (vouched for by the workers that run its kind).
    pub origin: ScheduleOrigin,
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
    /// Until when a live worker vouches for it: each worker that declares a
    /// schedule renews this while it runs. For a run-time schedule, until
    /// when a live worker declared it runs the schedule's job kind
    /// ([`ScheduleDeclareParams::kinds`]), or [`EARLIEST`](super::EARLIEST)
    /// if none ever has. Past it, the
    /// schedule is orphaned: it still ticks, but no running binary vouches
    /// for it.
    pub declared_until: DateTime<Utc>,
}

/// Which changes of a stored schedule restart it at
/// [`ScheduleUpsertParams::next_run_at`]; any other upsert keeps its stored
/// next tick, so ticks missed meanwhile meet the misfire policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleRestart {
    /// A changed cron or zone (a worker declaring its binary's
    /// `#[recurring]`: a deploy that changes only the job's options keeps
    /// the tick).
    OnTimingChange,
    /// Any change of the definition: cron, zone, misfire policy, or the
    /// job's kind, queue, arguments (compared as JSON values), priority or
    /// attempts (a run-time `Client::upsert_schedule`).
    OnAnyChange,
}

/// [`Backend::schedule_upsert`](super::Backend::schedule_upsert).
#[derive(Clone, Copy, Debug)]
pub struct ScheduleUpsertParams<'a> {
    /// The schedule as declared now.
    pub spec: &'a ScheduleSpec,
    /// Its first tick if it is new or changed as `restart` says.
    pub next_run_at: DateTime<Utc>,
    /// How long the declaration lasts, from the backend's now (zero for a
    /// run-time upsert: only workers vouch).
    pub declared_for: Duration,
    /// Which changes restart a stored schedule at `next_run_at`.
    pub restart: ScheduleRestart,
}

/// [`Backend::schedule_declare`](super::Backend::schedule_declare).
#[derive(Clone, Copy, Debug)]
pub struct ScheduleDeclareParams<'a> {
    /// The schedules a live worker declares.
    pub ids: &'a [&'a str],
    /// The job kinds that worker runs, sorted: every run-time schedule of
    /// one of them is vouched for, including one stored later.
    pub kinds: &'a [&'a str],
    /// How long the declaration lasts, from the backend's now.
    pub declared_for: Duration,
}

/// [`Backend::schedule_advance`](super::Backend::schedule_advance).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleAdvanceParams<'a> {
    /// The schedule's definition as the scheduler read it: part of the
    /// compare, so a tick never enqueues the jobs of a definition an
    /// upsert replaced meanwhile (the next pass ticks from the new one).
    pub spec: &'a ScheduleSpec,
    /// The next tick as the scheduler read it: the compare of the
    /// compare-and-set.
    pub expected_next: DateTime<Utc>,
    /// The tick after the ones enqueued now.
    pub next_run_at: DateTime<Utc>,
    /// The jobs of the ticks due now.
    pub jobs: Vec<NewJob>,
}

/// [`Backend::schedule_remove`](super::Backend::schedule_remove).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleRemoveParams<'a> {
    /// The schedule.
    pub id: &'a str,
}

/// [`Backend::queue_pause`](super::Backend::queue_pause) and
/// [`queue_resume`](super::Backend::queue_resume): the queue they act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePauseParams<'a> {
    /// The queue, already validated.
    pub queue: &'a str,
}

/// [`Backend::leader_elect`](super::Backend::leader_elect).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderElectParams<'a> {
    /// The candidate.
    pub worker_id: &'a str,
    /// How long the term lasts, from the backend's now.
    pub ttl: Duration,
}

/// [`Backend::leader_resign`](super::Backend::leader_resign).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderResignParams<'a> {
    /// The leader giving up its term.
    pub worker_id: &'a str,
}

/// [`Backend::batch_insert`](super::Backend::batch_insert): a batch and its
/// callbacks, stored all or nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchInsertParams {
    /// The batch's jobs, in order; each is stored with the new batch's id.
    pub jobs: Vec<NewJob>,
    /// Waits for every job of the batch with [`ParentCondition::Completed`].
    pub on_success: Option<NewJob>,
    /// Waits for every job of the batch with [`ParentCondition::Finished`].
    pub on_complete: Option<NewJob>,
    /// What a full backend does.
    pub mode: InsertMode,
}

/// What [`Backend::batch_insert`](super::Backend::batch_insert) stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertedBatch {
    /// The new batch.
    pub id: BatchId,
    /// The ids of its jobs, in order (for a unique job that already
    /// existed, the existing id, as an insert gives).
    pub jobs: Vec<JobId>,
    /// The `on_success` job.
    pub on_success: Option<JobId>,
    /// The `on_complete` job.
    pub on_complete: Option<JobId>,
}

/// [`Backend::batch_get`](super::Backend::batch_get).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchIdParams {
    /// The batch.
    pub id: BatchId,
}

/// [`Backend::job_finished_per_minute`](super::Backend::job_finished_per_minute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobFinishedPerMinuteParams {
    /// Only jobs that finished at or after this time.
    pub since: DateTime<Utc>,
}

/// [`Backend::worker_heartbeat`](super::Backend::worker_heartbeat): a live
/// worker says who it is and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerHeartbeatParams<'a> {
    /// The worker's id.
    pub id: &'a str,
    /// The host it runs on.
    pub hostname: &'a str,
    /// Its process id.
    pub pid: u32,
    /// The queues it serves, in order, with their concurrency.
    pub queues: &'a [WorkerQueue],
    /// Attempts it runs now.
    pub running: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it counts as live without another heartbeat, from the
    /// backend's now.
    pub lease: Duration,
}

/// [`Backend::worker_remove`](super::Backend::worker_remove).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerRemoveParams<'a> {
    /// The worker that stopped.
    pub id: &'a str,
}

/// How full a bounded store is
/// ([`Backend::store_fill`](super::Backend::store_fill)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoreFill {
    /// Jobs held that count against the capacity (the unfinished ones).
    pub unfinished: u64,
    /// The most it holds.
    pub capacity: u64,
}
