//! The storage seam: what a backend must do for the client and the worker.
//!
//! A backend **stores and fetches**; it decides nothing. What an outcome
//! does to a job (its state, attempt, due time and history), how a rescued
//! job is retried, where a released job goes, when a schedule ticks and
//! what is pruned: all of that is decided in jobs-core and handed to the
//! backend as plain values ([`JobTransition`], [`JobPruneParams`], ...). A
//! backend's part is to apply them with the atomicity each method states.
//!
//! # Writing a backend
//!
//! Implement [`Backend`] for a cheap, cloneable handle (`Arc` inside), then
//! run the conformance suite on it. The suite (module `testing`, feature
//! `testing`) is what defines correct behaviour; prose below only explains
//! it:
//!
//! ```ignore
//! // tests/conformance.rs of your crate; dev-dependency:
//! // jobs-core = { version = "..", features = ["testing"] }
//! jobs_core::conformance_suite!(async { my_backend::RedisBackend::fresh_for_test().await });
//! ```
//!
//! The expression runs once per case and must give a fresh, empty store.
//!
//! ## The job states a backend keeps
//!
//! Every stored job is in one [`JobState`](crate::JobState):
//!
//! - `Scheduled` / `Retryable`: waiting for its `scheduled_at`. A backend
//!   may keep it that way until asked, but [`job_fetch`](Backend::job_fetch)
//!   claims it once due and every read reports a due one as `Available`.
//! - `Available`: claimable by a worker that knows its kind.
//! - `Running`: claimed, under a lease until `leased_until`.
//! - `Completed`, `Dead`, `Cancelled`: finished, with `finished_at`.
//!
//! ## What each method must guarantee
//!
//! - **Insert** ([`job_insert_many`](Backend::job_insert_many)): all or
//!   nothing; ids in input order; a unique job whose `(kind, unique_key)` an
//!   unfinished job holds (or an earlier job of the same batch) is not
//!   stored, and the holder's id is returned in its place. A bounded store
//!   waits for room in [`InsertMode::Wait`] and fails with
//!   `EnqueueError::QueueFull` in [`InsertMode::Try`].
//! - **Claim** ([`job_fetch`](Backend::job_fetch)): atomically, each due job
//!   of the queue and kinds becomes `Running`, its `attempt` grows by one,
//!   its lease is `now + lease` and its progress is cleared; two concurrent
//!   fetches never claim the same job. Order: priority (lower first), then
//!   `scheduled_at`, then id. A job whose stored `version` is above the
//!   request's version for its kind ([`JobFetchParams::max_version`]) is
//!   skipped like a job of an unknown kind: it stays `Available`, and the
//!   jobs behind it are claimed. Store each job's `version` as given and
//!   hand it back in [`FetchedJob`]; jobs-core upgrades older arguments.
//! - **Outcomes** ([`job_complete_many`](Backend::job_complete_many)): each
//!   [`JobTransition`] is applied only while its job is `Running` at that
//!   attempt (the fence), and then exactly as given: the state;
//!   `scheduled_at` if given; attempt − 1 if `attempt_counted` is false;
//!   the error appended to the history; `finished_at = now` for a finished
//!   state; the lease cleared. A transition that fails the fence is
//!   skipped silently. Calls may overlap, never with a job in common, when
//!   [`completion_writers`](Backend::completion_writers) allows more than
//!   one.
//! - **Leases** ([`job_heartbeat`](Backend::job_heartbeat)): renew, under
//!   the same fence; report the runs that failed it, so their workers stop
//!   them. [`job_expired_list`](Backend::job_expired_list) lists running jobs
//!   whose lease ended; [`job_rescue_many`](Backend::job_rescue_many) applies
//!   the transitions jobs-core chose for them, fenced by attempt *and* by
//!   the lease still being expired (a heartbeat that came in between wins).
//! - **Pruning** ([`job_prune`](Backend::job_prune)): delete finished jobs
//!   before the cut-offs given, at most `limit`, and say how many; forget
//!   a batch none of whose jobs is stored any more once it was created
//!   before both cut-offs.
//! - **Schedules**: [`schedule_advance`](Backend::schedule_advance) is a
//!   compare-and-set on the stored next tick and definition that inserts
//!   the tick's jobs in
//!   the same atomic step: this is what makes each tick yield one job
//!   however many workers race for it.
//!   [`schedule_upsert`](Backend::schedule_upsert) stores a schedule with
//!   its [`origin`](ScheduleSpec::origin): one a binary declares
//!   (`#[recurring]`) replaces anything under its id, one defined at run
//!   time never replaces a declared one (the stored schedule is returned
//!   unchanged, and jobs-core reports the clash); whether a change restarts
//!   the next tick is the [`ScheduleRestart`] given.
//!   [`schedule_declare`](Backend::schedule_declare) vouches for declared
//!   schedules by id and for run-time ones by job kind: a run-time
//!   schedule's `declared_until` is its kind's, [`EARLIEST`] if no worker
//!   ever declared that kind (keep the kinds apart from the schedules, so
//!   a schedule stored after a worker's last renewal is covered at once,
//!   and renewing costs the same however many run-time schedules exist).
//! - **Leadership** ([`leader_elect`](Backend::leader_elect)): at most one
//!   worker holds an unexpired term; the holder renews it; another gets it
//!   once it expires or is resigned.
//! - **Wake-ups** ([`job_wakeup`](Backend::job_wakeup)): optional; a backend
//!   that can push "a job may be ready on this queue" makes idle workers
//!   start within milliseconds instead of the poll interval. Use
//!   [`WakeHub`](crate::wake::WakeHub).
//!
//! - **Reads** ([`job_get`](Backend::job_get), [`job_list`](Backend::job_list),
//!   [`job_counts`](Backend::job_counts)): a `Scheduled` or `Retryable` job
//!   whose time has come is reported `Available`; a [`JobInfo`] carries
//!   every attempt's error in order and the progress the current or last
//!   run reported; counts carry, per queue, the due time of the oldest
//!   available job (the queue's lag). Lists are ordered by id and paged by
//!   the filter's `offset` and `limit`.
//! - **Parents** (SPEC §10; the rules are in [`judge_parents`] and
//!   [`ParentEnd`]): an insert judges each new job's
//!   [`parents`](NewJob::parents) in the same atomic step, against their
//!   states at that moment; a parent id that names no job fails the whole
//!   insert with `EnqueueError::UnknownParent`. A waiting job is
//!   `Awaiting`: never claimed, counted apart, holding its unique key.
//!   Whatever ends a job (an outcome, a rescue, `job_cancel`,
//!   `job_delete`) resolves, in the same atomic step, the children
//!   waiting on it: each learns the [`ParentEnd`], a broken condition
//!   cancels the child with [`broken_error`] and in turn resolves the
//!   child's own children (the cascade), and a child with no parent left
//!   to wait for becomes `Available` (or `Scheduled` while its time is to
//!   come) and wakes its queue. A job keeps the ids of all its parents,
//!   in order, for [`JobInfo::parents`].
//! - **Batches** ([`batch_insert`](Backend::batch_insert)): as its doc
//!   says; [`JobFilter::batch`] lists a batch's own jobs, and
//!   [`batch_get`](Backend::batch_get) counts them.
//! - **Unique keys**: a unique job holds its `(kind, key)` from insert until
//!   it finishes (or is deleted); a retried finished job takes it again, and
//!   the retry is refused if another unfinished job holds it meanwhile.
//! - **Admin** ([`job_retry`](Backend::job_retry),
//!   [`job_cancel`](Backend::job_cancel), [`job_delete`](Backend::job_delete)):
//!   as each method's doc says; a retry of a job whose attempts are spent
//!   raises its `max_attempts` by one, so it gets exactly one more.
//! - **Checks** ([`check`](Backend::check)): refuse a store this binary
//!   cannot use (a database schema a newer version migrated); the worker
//!   runs nothing until it passes. `Client::health` reports a failing
//!   check as `Unhealthy`, with its message, so make that message say
//!   what is wrong (unreachable, not migrated).
//! - **Live workers** (SPEC §12): a running worker calls
//!   [`worker_heartbeat`](Backend::worker_heartbeat) when it starts and
//!   every heartbeat interval after (whether or not it runs jobs); store
//!   the row it describes, replacing the worker's earlier one, with
//!   `last_seen_at` = the backend's now and an expiry of now + `lease`.
//!   [`worker_list`](Backend::worker_list) returns only the workers whose
//!   expiry is still ahead, by id: a worker that stops heartbeating drops
//!   off within its lease, without anyone deleting it.
//!   [`worker_remove`](Backend::worker_remove) (at graceful shutdown)
//!   deletes the row at once, and [`worker_prune`](Backend::worker_prune)
//!   (the leader's maintenance) deletes the expired ones, so the rows of
//!   dead workers do not pile up. None of these touch jobs.
//! - **Fill** ([`store_fill`](Backend::store_fill)): a bounded store says
//!   how many jobs it holds against its capacity, for `Client::health`
//!   (75 % full is `Degraded`, 95 % `Unhealthy`); an unbounded one keeps
//!   the default, `None`.
//!
//! ## Flow control
//!
//! SPEC §11's limits are kept by the claim, so they hold across every
//! worker sharing the backend:
//!
//! - **Limited claims.** jobs-core fetches each kind with limits on its
//!   own, with [`JobFetchParams::flow`] set and `kinds` holding that one
//!   kind; kinds without limits are fetched together exactly as before,
//!   with `flow: None`, and a backend must keep that claim as it is: a
//!   feature nobody uses costs nothing. A limited claim is atomic with
//!   every other limited claim of the same kind (the memory backend holds
//!   its lock; PostgreSQL serializes them with a transaction advisory lock
//!   on the schema and kind), and claims, in the usual order, only what is
//!   left:
//!   - [`ConcurrencyLimit`]: `max` minus the kind's `Running` jobs (all of
//!     them, buffered or running, expired leases included). With a `key`,
//!     per value of [`NewJob::concurrency_key`], stored with each job: jobs
//!     whose value is full are stepped over and stay `Available`; the
//!     others are claimed.
//!   - [`RateLimit`]: `max` minus the kind's claims in the window ending
//!     now (a claim is the start); the backend records each claim's time
//!     and forgets those that left the window. When due jobs were held back
//!     by the rate, [`FetchedBatch::held_until`] says when the window next
//!     has room, so the fetch loop sleeps exactly that long.
//!
//!   A held-back job is not touched: it stays `Available` at its attempt.
//!   A claimed job may wait in the worker's prefetch buffer, where it
//!   counts as running, and starts within the prefetch horizon (100 ms by
//!   default; a worker with `prefetch_horizon(Duration::ZERO)` claims only
//!   into free slots, so its claims are its starts).
//! - **Paused queues** ([`queue_pause`](Backend::queue_pause),
//!   [`queue_resume`](Backend::queue_resume)): a fetch from a paused queue,
//!   limited or not, claims nothing and reports no due time (the worker
//!   waits its poll interval or a wake-up), from the first fetch after the
//!   pause; jobs are still inserted; running jobs are not touched. A resume
//!   wakes the queue's idle workers as an insert does.
//!   [`queue_list`](Backend::queue_list) lists every queue that holds jobs
//!   or has a pause record, by name.
//! - **Wake-ups**: a backend that can, wakes a limited kind's queue when one
//!   of its runs ends (the memory backend does); otherwise workers on other
//!   nodes see the room at their next poll, and the worker that ran the job
//!   fetches again at once.
//!
//! Methods that act on one job by id return `false` (or `None`) when the
//! job does not exist or is not in a state the operation applies to;
//! errors are for storage failures only, and a backend that loses its
//! connection reconnects on the next call. Times are given by jobs-core
//! within [`EARLIEST`]..=[`LATEST`], and a backend's own arithmetic (a
//! lease's end) saturates with [`after`] and [`before`]: no input may make
//! a backend panic.
//!
//! ## What a backend never decides
//!
//! It never computes a retry delay, never chooses between `Retryable` and
//! `Dead`, never writes an error message of its own, never moves a job's
//! due time except as a transition says, and never picks what to prune: a
//! third backend must not become a third copy of the rules. A method that
//! seems to need a rule is missing a parameter; the conformance suite is
//! where that shows.

mod params;
mod parents;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use self::params::{
    BatchIdParams, BatchInsertParams, ConcurrencyLimit, ExpiredJob, FetchedBatch, FetchedJob,
    FlowLimits, InsertMode, InsertedBatch, JobCompleteManyParams, JobExpiredListParams,
    JobFetchParams, JobFinishedPerMinuteParams, JobHeartbeatParams, JobIdParams,
    JobInsertManyParams, JobParent, JobProgressManyParams, JobPruneParams, JobRescueManyParams,
    JobTransition, LeaderElectParams, LeaderResignParams, NewJob, ParentCondition, ProgressReport,
    QueuePauseParams, RateLimit, RunningAttempt, ScheduleAdvanceParams, ScheduleDeclareParams,
    ScheduleRemoveParams, ScheduleRestart, ScheduleSpec, ScheduleUpsertParams, ScheduledJob,
    StoreFill, StoredSchedule, WorkerHeartbeatParams, WorkerRemoveParams,
};
pub use self::parents::{
    ParentEnd, ParentVerdict, broken_error, broken_message, dedup_parents, judge_parents,
};
use crate::wake::Wakeup;
use crate::{
    BatchInfo, BoxError, Counts, EnqueueError, FinishedMinute, JobFilter, JobId, JobInfo,
    QueueInfo, WorkerInfo,
};

/// The latest time jobs-core hands a backend: the last second of the year
/// 9999, which every store, and RFC 3339 text, can hold. Times past it (a
/// snooze of `Duration::MAX`, a delay of millions of years) saturate here.
pub const LATEST: DateTime<Utc> = match DateTime::from_timestamp(253_402_300_799, 0) {
    Some(latest) => latest,
    None => DateTime::<Utc>::MAX_UTC,
};

/// The earliest time jobs-core hands a backend: the first second of the
/// year 1.
pub const EARLIEST: DateTime<Utc> = match DateTime::from_timestamp(-62_135_596_800, 0) {
    Some(earliest) => earliest,
    None => DateTime::<Utc>::MIN_UTC,
};

/// `at + span`, saturating at [`LATEST`] instead of overflowing.
pub fn after(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| at.checked_add_signed(span))
        .map_or(LATEST, |later| later.min(LATEST))
}

/// `at - span`, saturating at [`EARLIEST`] instead of overflowing.
pub fn before(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| at.checked_sub_signed(span))
        .map_or(EARLIEST, |earlier| earlier.max(EARLIEST))
}

/// A job store: the memory backend, PostgreSQL, or your own. See the
/// [module docs](self) for what each method must guarantee.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Stores jobs in order and returns their ids (for a unique job that
    /// already exists, the existing id). All or nothing.
    async fn job_insert_many(
        &self,
        params: JobInsertManyParams,
    ) -> Result<Vec<JobId>, EnqueueError>;

    /// Claims up to `limit` due jobs of the given queue and kinds: they become
    /// `Running`, their attempt grows by one and a lease starts.
    async fn job_fetch(&self, params: JobFetchParams<'_>) -> Result<FetchedBatch, BoxError>;

    /// Applies attempt outcomes, each fenced by its run.
    async fn job_complete_many(&self, params: JobCompleteManyParams) -> Result<(), BoxError>;

    /// How many [`job_complete_many`](Self::job_complete_many) calls a
    /// worker may have in flight at once, each with its own jobs. The
    /// default, one, writes outcomes one batch at a time. A store whose
    /// writes wait for a flush to disk can take more: while one batch
    /// waits for its flush, the next is already being written.
    fn completion_writers(&self) -> usize {
        1
    }

    /// Renews the leases of running attempts. Returns those of them that are
    /// no longer running at that attempt (cancelled through the client,
    /// rescued, deleted): the worker cancels their runs.
    async fn job_heartbeat(&self, params: JobHeartbeatParams<'_>) -> Result<Vec<JobId>, BoxError>;

    /// Records the progress runs reported (`JobContext::set_progress`), each
    /// fenced by its run like an outcome. The default stores nothing.
    async fn job_progress_many(&self, params: JobProgressManyParams<'_>) -> Result<(), BoxError> {
        let _ = params;
        Ok(())
    }

    /// Running jobs whose lease has expired, the longest expired first.
    async fn job_expired_list(
        &self,
        params: JobExpiredListParams,
    ) -> Result<Vec<ExpiredJob>, BoxError>;

    /// Applies the transitions jobs-core chose for expired runs, each only
    /// while the job is `Running` at that attempt with its lease still
    /// expired. Returns how many applied.
    async fn job_rescue_many(&self, params: JobRescueManyParams) -> Result<u64, BoxError>;

    /// Deletes finished jobs past the cut-offs; returns how many.
    async fn job_prune(&self, params: JobPruneParams) -> Result<u64, BoxError>;

    /// Checks that this binary can use the store: for a database, that its
    /// schema exists and is not newer than this version knows. A worker
    /// runs nothing until this passes, and `Worker::run_until` returns its
    /// error instead of starting. The default accepts.
    async fn check(&self) -> Result<(), BoxError> {
        Ok(())
    }

    /// A wake-up handle that fires when jobs may have become available on
    /// `queue`. A backend without push notifications returns one that never
    /// fires ([`Wakeup::never`](crate::wake::Wakeup::never)); workers then poll.
    fn job_wakeup(&self, queue: &str) -> Wakeup;

    /// One job.
    async fn job_get(&self, params: JobIdParams) -> Result<Option<JobInfo>, BoxError>;

    /// Jobs matching the filter, by id.
    async fn job_list(&self, filter: &JobFilter) -> Result<Vec<JobInfo>, BoxError>;

    /// Job counts per queue and state.
    async fn job_counts(&self) -> Result<Counts, BoxError>;

    /// The counts of the jobs not finished yet (awaiting, scheduled,
    /// available, running, retryable) per queue, with each queue's oldest
    /// available job; the finished states count zero and a queue holding
    /// only finished jobs is left out. Health checks, queue-depth metrics
    /// and dashboards ask this often, so a backend that keeps many finished
    /// jobs answers it from what it keeps of the unfinished ones alone (an
    /// index), never by counting every stored job. The default filters
    /// [`job_counts`](Self::job_counts).
    async fn job_unfinished_counts(&self) -> Result<Counts, BoxError> {
        Ok(self.job_counts().await?.unfinished())
    }

    /// How many of the stored jobs finished in each minute since
    /// `since`, oldest first; minutes in which none finished are left out.
    /// For dashboards. The default knows of none.
    async fn job_finished_per_minute(
        &self,
        params: JobFinishedPerMinuteParams,
    ) -> Result<Vec<FinishedMinute>, BoxError> {
        let _ = params;
        Ok(Vec::new())
    }

    /// Makes a `Dead`, `Cancelled`, `Retryable` or `Scheduled` job
    /// `Available` now, allowing it one more attempt if its attempts are
    /// spent. Refused for a finished unique job whose key another unfinished
    /// job holds. Returns whether it changed.
    async fn job_retry(&self, params: JobIdParams) -> Result<bool, BoxError>;

    /// Cancels a job that has not finished. A running one becomes
    /// `Cancelled` at once; its worker learns of it at the next heartbeat and
    /// its late outcome fails the fence. Returns whether it changed.
    async fn job_cancel(&self, params: JobIdParams) -> Result<bool, BoxError>;

    /// Deletes a job that is not running. Returns whether it existed.
    /// Its waiting children learn [`ParentEnd::Deleted`].
    async fn job_delete(&self, params: JobIdParams) -> Result<bool, BoxError>;

    /// Stores a batch, all or nothing: a new batch id, its jobs with that
    /// id, then `on_success` waiting on every one of them with
    /// `Completed` and `on_complete` with `Finished` (in addition to
    /// parents of their own).
    async fn batch_insert(&self, params: BatchInsertParams) -> Result<InsertedBatch, EnqueueError>;

    /// A batch's jobs counted by state ([`BatchInfo::count`]), or `None` if
    /// no such batch is stored.
    async fn batch_get(&self, params: BatchIdParams) -> Result<Option<BatchInfo>, BoxError>;

    /// Stores a schedule and vouches for it for `declared_for`. A new id
    /// starts at `next_run_at`. A known id is updated, and restarts at
    /// `next_run_at` if it changed as `restart` says; otherwise its stored
    /// next tick is kept (so ticks missed while no worker ran meet the
    /// misfire policy). A declaration only ever extends. Exception: a
    /// [`Runtime`](crate::ScheduleOrigin::Runtime) spec whose id holds a
    /// [`Declared`](crate::ScheduleOrigin::Declared) schedule changes
    /// nothing. Returns the schedule as stored afterwards.
    async fn schedule_upsert(
        &self,
        params: ScheduleUpsertParams<'_>,
    ) -> Result<StoredSchedule, BoxError>;

    /// Renews the declarations of stored schedules a live worker declares
    /// (ids not stored are ignored), and records that it runs `kinds` for
    /// as long, which vouches for the run-time schedules of those kinds.
    async fn schedule_declare(&self, params: ScheduleDeclareParams<'_>) -> Result<(), BoxError>;

    /// Every stored schedule, by id.
    async fn schedule_list(&self) -> Result<Vec<StoredSchedule>, BoxError>;

    /// Atomically: if the schedule's next tick is still `expected_next` and
    /// its stored definition is still `spec` (equal in every field; the
    /// arguments as JSON values), sets it to `next_run_at`, records now as its last run and inserts
    /// `jobs` (over any capacity); otherwise changes nothing. Returns whether
    /// it applied.
    async fn schedule_advance(&self, params: ScheduleAdvanceParams<'_>) -> Result<bool, BoxError>;

    /// Pauses a queue: from the next fetch on, no job of it is claimed
    /// until [`queue_resume`](Backend::queue_resume); it still accepts
    /// jobs, and running ones finish. Returns whether it was running.
    async fn queue_pause(&self, params: QueuePauseParams<'_>) -> Result<bool, BoxError>;

    /// Resumes a paused queue and wakes its idle workers. Returns whether
    /// it was paused.
    async fn queue_resume(&self, params: QueuePauseParams<'_>) -> Result<bool, BoxError>;

    /// Every queue that holds jobs or has a pause record, by name.
    async fn queue_list(&self) -> Result<Vec<QueueInfo>, BoxError>;

    /// The paused queues, by name. Dashboards ask it on every view, so a
    /// backend that keeps many jobs answers it from its pause records
    /// alone; the default filters [`queue_list`](Self::queue_list).
    async fn queue_paused_list(&self) -> Result<Vec<String>, BoxError> {
        Ok(self
            .queue_list()
            .await?
            .into_iter()
            .filter(|queue| queue.paused)
            .map(|queue| queue.name)
            .collect())
    }

    /// Deletes a stored schedule. Returns whether it existed.
    async fn schedule_remove(&self, params: ScheduleRemoveParams<'_>) -> Result<bool, BoxError>;

    /// Tries to become (or stay) the leader that runs the cron scheduler and
    /// maintenance for `ttl`. Returns whether this worker leads now.
    async fn leader_elect(&self, params: LeaderElectParams<'_>) -> Result<bool, BoxError>;

    /// Gives up leadership if held (at shutdown).
    async fn leader_resign(&self, params: LeaderResignParams<'_>) -> Result<(), BoxError>;

    /// Records that a worker is alive: inserts or replaces its row, seen
    /// now and live until now + `lease`.
    async fn worker_heartbeat(&self, params: WorkerHeartbeatParams<'_>) -> Result<(), BoxError>;

    /// The live workers (expiry still ahead), by id.
    async fn worker_list(&self) -> Result<Vec<WorkerInfo>, BoxError>;

    /// Deletes a worker's row (a graceful shutdown). Returns whether it
    /// existed.
    async fn worker_remove(&self, params: WorkerRemoveParams<'_>) -> Result<bool, BoxError>;

    /// Deletes the rows of workers whose lease ended; returns how many.
    async fn worker_prune(&self) -> Result<u64, BoxError>;

    /// How full a bounded store is; `None` (the default) for a store
    /// without a capacity.
    async fn store_fill(&self) -> Result<Option<StoreFill>, BoxError> {
        Ok(None)
    }
}
