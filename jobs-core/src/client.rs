//! The client: enqueue jobs and administer stored ones.

use std::fmt;
use std::sync::Arc;

use crate::backend::{
    Backend, BatchIdParams, InsertMode, JobFinishedPerMinuteParams, JobIdParams,
    JobInsertManyParams, LATEST, QueuePauseParams, ScheduleRemoveParams, ScheduleRestart,
    ScheduleUpsertParams,
};
use crate::batch::BatchInfo;
use crate::builder::JobBuilder;
use crate::health::{Health, HealthInputs, HealthThresholds};
use crate::id::BatchId;
use crate::worker::metrics::{count_enqueued, names};
use crate::worker::scheduler::stored_schedule_job;
use crate::{
    Counts, EnqueueError, Error, FinishedMinute, JobFilter, JobId, JobInfo, JobState, QueueInfo,
    Result, Schedule, ScheduleInfo, ScheduleOrigin, WorkerInfo, is_valid_queue_name,
};

/// The default limit on a job's encoded arguments: 1 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;

/// How many jobs `Client::waiting_jobs` asks for at a time.
const WAITING_PAGE: usize = 500;

/// Enqueues jobs and reads and administers stored ones.
///
/// Cheap to clone (a shared handle), `Send + Sync`: keep one in your
/// application state.
///
/// ```rust,standalone_crate
/// use jobs_core::{job, Client, JobState};
/// use jobs_memory::MemoryBackend;
///
/// #[job]
/// async fn resize_image(image_id: i64, width: u32) {}
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::new(MemoryBackend::new());
/// let id = resize_image::enqueue(&client, 7, 640).await?;
/// let info = client.job(id).await?.expect("stored");
/// assert_eq!(info.kind, "resize_image");
/// assert_eq!(info.state, JobState::Available);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    backend: Arc<dyn Backend>,
    max_payload: usize,
}

impl Client {
    /// A client on `backend`.
    pub fn new<B: Backend>(backend: B) -> Self {
        Self::from_arc(Arc::new(backend))
    }

    /// A client on a shared backend.
    pub fn from_arc(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// Sets the limit on a job's encoded arguments (default 1 MiB).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The limit on a job's encoded arguments.
    pub(crate) fn max_payload_limit(&self) -> usize {
        self.max_payload
    }

    /// The backend this client talks to.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Stores a job, waiting for room if the backend is full. Returns once
    /// the job is stored; never waits for it to run.
    pub async fn enqueue(&self, job: JobBuilder) -> Result<JobId, EnqueueError> {
        self.insert_one(job, InsertMode::Wait).await
    }

    /// Stores a job, or fails with [`EnqueueError::QueueFull`] if the
    /// backend is full.
    pub async fn try_enqueue(&self, job: JobBuilder) -> Result<JobId, EnqueueError> {
        self.insert_one(job, InsertMode::Try).await
    }

    pub(crate) async fn insert_one(
        &self,
        job: JobBuilder,
        mode: InsertMode,
    ) -> Result<JobId, EnqueueError> {
        let counted = job.enqueued_metric();
        let row = job.into_new_job(self.max_payload)?;
        let params = JobInsertManyParams {
            jobs: vec![row],
            mode,
        };
        let ids = self.backend.job_insert_many(params).await?;
        count_enqueued(counted, 1);
        ids.into_iter().next().ok_or_else(|| {
            EnqueueError::Backend("the backend stored the job but returned no id".into())
        })
    }

    /// Stores many jobs, of any kinds, in one round trip; all or nothing.
    /// Returns their ids in order.
    pub async fn enqueue_many(&self, jobs: Vec<JobBuilder>) -> Result<Vec<JobId>, EnqueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let counted: Vec<_> = jobs.iter().map(JobBuilder::enqueued_metric).collect();
        let rows = jobs
            .into_iter()
            .map(|job| job.into_new_job(self.max_payload))
            .collect::<Result<Vec<_>, _>>()?;
        let params = JobInsertManyParams {
            jobs: rows,
            mode: InsertMode::Wait,
        };
        let ids = self.backend.job_insert_many(params).await?;
        for key in counted {
            count_enqueued(key, 1);
        }
        Ok(ids)
    }

    /// How many jobs finished in each minute since `since` (`Completed`,
    /// and `Dead` or `Cancelled` as failed), oldest first, as far as the
    /// finished jobs are still kept. Minutes without any are left out.
    pub async fn finished_per_minute(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<FinishedMinute>> {
        self.backend
            .job_finished_per_minute(JobFinishedPerMinuteParams { since })
            .await
            .map_err(Error::backend)
    }

    /// Where a batch stands: its jobs counted by outcome, and when it
    /// finished. `None` if no such batch is stored.
    pub async fn batch(&self, id: BatchId) -> Result<Option<BatchInfo>> {
        self.backend
            .batch_get(BatchIdParams { id })
            .await
            .map_err(Error::backend)
    }

    /// One job, or `None` if there is no such job (never stored, deleted, or
    /// pruned after its retention period).
    pub async fn job(&self, id: JobId) -> Result<Option<JobInfo>> {
        self.backend
            .job_get(JobIdParams { id })
            .await
            .map_err(Error::Backend)
    }

    /// Jobs matching `filter`, by id.
    pub async fn list(&self, filter: JobFilter) -> Result<Vec<JobInfo>> {
        self.backend.job_list(&filter).await.map_err(Error::Backend)
    }

    /// The jobs of `kind` not yet started or finished (`Awaiting`,
    /// `Scheduled` or `Available`), by id, however many: what
    /// `NAME::enqueued` decodes.
    #[doc(hidden)]
    pub async fn waiting_jobs(&self, kind: &str) -> Result<Vec<JobInfo>> {
        let mut jobs = Vec::new();
        for state in [JobState::Awaiting, JobState::Scheduled, JobState::Available] {
            let page = JobFilter::new().kind(kind).state(state).limit(WAITING_PAGE);
            let mut offset = 0;
            loop {
                let found = self.list(page.clone().offset(offset)).await?;
                let last = found.len() < WAITING_PAGE;
                offset += found.len();
                jobs.extend(found);
                if last {
                    break;
                }
            }
        }
        jobs.sort_unstable_by_key(|job| job.id);
        // a job that became due between the two listings shows up twice
        jobs.dedup_by_key(|job| job.id);
        Ok(jobs)
    }

    /// Job counts per queue and state.
    pub async fn counts(&self) -> Result<Counts> {
        self.backend.job_counts().await.map_err(Error::Backend)
    }

    /// Counts of the jobs not finished yet, per queue: like
    /// [`counts`](Self::counts) with `completed`, `dead` and `cancelled`
    /// at zero, and queues holding only finished jobs left out. It reads
    /// only what the backend keeps of unfinished jobs, so it stays fast
    /// however many finished jobs are kept; health checks use it.
    ///
    /// ```rust,standalone_crate
    /// use jobs_core::{job, Client};
    ///
    /// #[job(queue = "mail")]
    /// async fn send_mail(to: String) {}
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(jobs_memory::MemoryBackend::new());
    /// send_mail::enqueue(&client, "ada@example.com".into()).await?;
    /// assert_eq!(client.unfinished_counts().await?["mail"].available, 1);
    /// # Ok(()) }
    /// ```
    pub async fn unfinished_counts(&self) -> Result<Counts> {
        self.backend
            .job_unfinished_counts()
            .await
            .map_err(Error::Backend)
    }

    /// Runs a `Dead` or `Cancelled` job again (or a waiting one now),
    /// allowing one more attempt if its attempts are spent. Returns whether
    /// the job changed.
    pub async fn retry(&self, id: JobId) -> Result<bool> {
        self.backend
            .job_retry(JobIdParams { id })
            .await
            .map_err(Error::Backend)
    }

    /// Cancels a job that has not finished; a running job's
    /// `JobContext::cancelled` fires. Returns whether the job changed.
    pub async fn cancel(&self, id: JobId) -> Result<bool> {
        self.backend
            .job_cancel(JobIdParams { id })
            .await
            .map_err(Error::Backend)
    }

    /// Deletes a job that is not running. Returns whether it existed.
    pub async fn delete(&self, id: JobId) -> Result<bool> {
        self.backend
            .job_delete(JobIdParams { id })
            .await
            .map_err(Error::Backend)
    }

    /// Stores a recurring schedule defined at run time, or updates the one
    /// stored under its id (Hangfire's `RecurringJob.AddOrUpdate`), and
    /// returns it as stored. Its ticks follow every rule of `#[recurring]`
    /// (one job a tick however many workers run, daylight saving time, the
    /// misfire policy); the leader ticks it from the stored definition,
    /// even a worker that does not run its job kind.
    ///
    /// Upserting an unchanged definition keeps the stored next tick (so a
    /// tick missed meanwhile still meets the misfire policy); a changed
    /// one (cron, zone, misfire policy, or the job's kind, arguments,
    /// queue, priority or retries) restarts from now. Nothing is stored if
    /// the schedule is refused with [`Error::InvalidSchedule`]: see
    /// [`Schedule`] for the checks. An id a `#[recurring]` function
    /// declares is refused too: the declaration wins.
    ///
    /// ```rust,standalone_crate
    /// use jobs_core::{job, Client, Misfire, Schedule};
    /// use jobs_memory::MemoryBackend;
    ///
    /// #[job]
    /// async fn tenant_report(tenant_id: i64) {}
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobs_core::Error> {
    /// let client = Client::new(MemoryBackend::new());
    /// let report = |tenant| {
    ///     Schedule::new(format!("tenant-{tenant}-report"), "0 0 6 * * *")
    ///         .tz("Europe/Berlin")
    ///         .misfire(Misfire::Skip)
    ///         .job(tenant_report::with(tenant))
    /// };
    /// let first = client.upsert_schedule(report(7)).await?;
    /// let again = client.upsert_schedule(report(7)).await?; // unchanged: keeps its next tick
    /// assert_eq!(first.next_run_at, again.next_run_at);
    ///
    /// let listed = client.schedules().await?;
    /// assert_eq!(listed.len(), 1);
    /// assert!(listed[0].orphaned, "no worker running `tenant_report` is alive");
    ///
    /// assert!(client.remove_schedule("tenant-7-report").await?);
    /// # Ok(()) }
    /// ```
    pub async fn upsert_schedule(&self, schedule: Schedule) -> Result<ScheduleInfo> {
        let now = chrono::Utc::now();
        let (spec, cron) = schedule.into_spec(self.max_payload, now)?;
        let params = ScheduleUpsertParams {
            spec: &spec,
            next_run_at: cron.next_after(now).unwrap_or(LATEST),
            // only workers vouch for a schedule, by running its kind
            declared_for: std::time::Duration::ZERO,
            restart: ScheduleRestart::OnAnyChange,
        };
        let stored = self
            .backend
            .schedule_upsert(params)
            .await
            .map_err(Error::Backend)?;
        if stored.spec.origin != ScheduleOrigin::Runtime {
            return Err(Error::InvalidSchedule {
                message: format!(
                    "the id belongs to the `#[recurring]` schedule of job `{}`, and a declaration wins: choose another id (if that function is gone for good, remove the stored schedule first with `client.remove_schedule`)",
                    stored.spec.job.kind
                ),
                id: spec.id,
            });
        }
        Ok(ScheduleInfo::of(stored, now))
    }

    /// Every stored recurring schedule, declared by `#[recurring]` or
    /// stored with [`upsert_schedule`](Self::upsert_schedule), by id. Each
    /// keeps ticking whichever workers run; one that no live worker vouches
    /// for is flagged [`orphaned`](ScheduleInfo::orphaned): a declared one
    /// that no live worker declares any more, a run-time one whose job kind
    /// no live worker runs (remove it with
    /// [`remove_schedule`](Self::remove_schedule) if it is gone for good).
    pub async fn schedules(&self) -> Result<Vec<ScheduleInfo>> {
        let stored = self.backend.schedule_list().await.map_err(Error::Backend)?;
        let now = chrono::Utc::now();
        Ok(stored
            .into_iter()
            .map(|stored| ScheduleInfo::of(stored, now))
            .collect())
    }

    /// Pauses `queue` on every worker sharing the backend: it still accepts
    /// jobs, but none of its jobs starts until
    /// [`resume_queue`](Self::resume_queue) (runs already started finish).
    /// Every claim after the pause skips the queue; a worker still starts
    /// the few jobs it had claimed just before (what its slots start within
    /// the prefetch horizon, 100 ms by default). Returns whether it was
    /// running; an invalid name is [`Error::InvalidQueue`].
    ///
    /// ```rust,standalone_crate
    /// # use jobs_core::Client;
    /// # use jobs_memory::MemoryBackend;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), jobs_core::Error> {
    /// let client = Client::new(MemoryBackend::new());
    /// client.pause_queue("mailer").await?;
    /// let queues = client.queues().await?;
    /// assert!(queues.iter().any(|queue| queue.name == "mailer" && queue.paused));
    /// client.resume_queue("mailer").await?;
    /// # Ok(()) }
    /// ```
    pub async fn pause_queue(&self, queue: &str) -> Result<bool> {
        let params = queue_params(queue)?;
        self.backend
            .queue_pause(params)
            .await
            .map_err(Error::Backend)
    }

    /// Resumes a paused `queue`; idle workers start its jobs at once.
    /// Returns whether it was paused.
    pub async fn resume_queue(&self, queue: &str) -> Result<bool> {
        let params = queue_params(queue)?;
        self.backend
            .queue_resume(params)
            .await
            .map_err(Error::Backend)
    }

    /// Every queue that holds jobs or was paused, by name, with whether it
    /// is paused.
    pub async fn queues(&self) -> Result<Vec<QueueInfo>> {
        self.backend.queue_list().await.map_err(Error::Backend)
    }

    /// The paused queues, by name: [`queues`](Self::queues) that are
    /// paused, read from the pause records alone, so it stays quick
    /// however many jobs are kept.
    ///
    /// ```rust,standalone_crate
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = jobs_core::Client::new(jobs_memory::MemoryBackend::new());
    /// client.pause_queue("mailer").await?;
    /// assert_eq!(client.paused_queues().await?, ["mailer"]);
    /// # Ok(()) }
    /// ```
    pub async fn paused_queues(&self) -> Result<Vec<String>> {
        self.backend
            .queue_paused_list()
            .await
            .map_err(Error::Backend)
    }

    /// Enqueues the job of the stored recurring schedule `id` now, outside
    /// its schedule, as a tick would (the kind, queue, arguments, priority,
    /// attempts and version stored with the schedule), without moving its
    /// next tick. Works for any stored schedule, also one this binary does
    /// not link. Fails with [`Error::UnknownSchedule`] if none has that id.
    ///
    /// ```rust,standalone_crate
    /// # use jobs_core::{recurring, Client, Error};
    /// # #[recurring(cron = "0 0 3 * * *", id = "nightly-report")]
    /// # async fn nightly_report() {}
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(jobs_memory::MemoryBackend::new());
    /// assert!(matches!(
    ///     client.trigger_schedule("nightly-report").await,
    ///     Err(Error::UnknownSchedule(id)) if id == "nightly-report" // no worker stored it yet
    /// ));
    /// # Ok(()) }
    /// ```
    pub async fn trigger_schedule(&self, id: &str) -> Result<JobId> {
        let stored = self.backend.schedule_list().await.map_err(Error::Backend)?;
        let schedule = stored
            .into_iter()
            .find(|stored| stored.spec.id == id)
            .ok_or_else(|| Error::UnknownSchedule(id.to_owned()))?;
        let row = stored_schedule_job(&schedule.spec.job, None);
        let kind = row.kind.clone();
        let params = JobInsertManyParams {
            jobs: vec![row],
            mode: InsertMode::Wait,
        };
        let ids = self.backend.job_insert_many(params).await?;
        metrics::counter!(names::ENQUEUED, "kind" => kind).increment(1);
        ids.into_iter().next().ok_or_else(|| {
            Error::Enqueue(EnqueueError::Backend(
                "the backend stored the job but returned no id".into(),
            ))
        })
    }

    /// The live workers, by id: every worker that heartbeated within its
    /// lease. One that shut down is gone at once; one that died drops off
    /// when its lease ends (30 s by default).
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        self.backend.worker_list().await.map_err(Error::Backend)
    }

    /// How the store and its workers are doing, with the default
    /// [`HealthThresholds`]; see [`health_with`](Self::health_with).
    pub async fn health(&self) -> Result<Health> {
        self.health_with(HealthThresholds::default()).await
    }

    /// How the store and its workers are doing: `Unhealthy` when the
    /// backend cannot be used (unreachable, its schema not migrated),
    /// otherwise what [`Health::assess`] finds in its counts, live workers
    /// and fill. Problems are reported in the [`Health`], not as errors.
    ///
    /// ```rust,standalone_crate
    /// use jobs_core::{job, Client, HealthStatus, HealthThresholds};
    ///
    /// #[job(queue = "mail")]
    /// async fn send_mail(to: String) {}
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(jobs_memory::MemoryBackend::new());
    /// assert_eq!(client.health().await?.status, HealthStatus::Healthy);
    ///
    /// send_mail::enqueue(&client, "ada@example.com".into()).await?;
    /// let health = client.health_with(HealthThresholds::default()).await?;
    /// assert_eq!(health.status, HealthStatus::Degraded); // no worker serves "mail"
    /// # Ok(()) }
    /// ```
    pub async fn health_with(&self, thresholds: HealthThresholds) -> Result<Health> {
        if let Err(error) = self.backend.check().await {
            return Ok(Health::unhealthy(format!(
                "the backend cannot be used: {error}"
            )));
        }
        let unreachable = |error: crate::BoxError| {
            Health::unhealthy(format!("the backend is unreachable: {error}"))
        };
        let counts = match self.backend.job_unfinished_counts().await {
            Ok(counts) => counts,
            Err(error) => return Ok(unreachable(error)),
        };
        let workers = match self.backend.worker_list().await {
            Ok(workers) => workers,
            Err(error) => return Ok(unreachable(error)),
        };
        let fill = match self.backend.store_fill().await {
            Ok(fill) => fill,
            Err(error) => return Ok(unreachable(error)),
        };
        let inputs = HealthInputs {
            counts: &counts,
            workers: &workers,
            fill,
            now: chrono::Utc::now(),
        };
        Ok(Health::assess(&inputs, &thresholds))
    }

    /// Deletes a stored recurring schedule. Returns whether it existed.
    pub async fn remove_schedule(&self, id: &str) -> Result<bool> {
        self.backend
            .schedule_remove(ScheduleRemoveParams { id })
            .await
            .map_err(Error::Backend)
    }
}

/// The params naming `queue`, if its name is valid.
fn queue_params(queue: &str) -> Result<QueuePauseParams<'_>> {
    if !is_valid_queue_name(queue) {
        return Err(Error::InvalidQueue(queue.to_owned()));
    }
    Ok(QueuePauseParams { queue })
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("max_payload", &self.max_payload)
            .finish_non_exhaustive()
    }
}
