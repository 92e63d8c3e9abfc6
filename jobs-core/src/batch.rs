//! Batches (SPEC §10): jobs stored together, with callbacks that run once
//! all of them have finished.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::{BatchInsertParams, InsertMode};
use crate::worker::metrics::count_enqueued;
use crate::{BatchId, Client, EnqueueError, JobBuilder, JobId, JobState};

/// Jobs enqueued together, with an `on_success` job that runs once every one
/// of them is `Completed` and an `on_complete` job that runs once every one
/// has finished, whatever the outcome. Stored all or nothing (PostgreSQL:
/// one transaction).
///
/// ```rust,standalone_crate
/// use jobs_core::{job, Batch, Client, JobFilter};
/// use jobs_memory::MemoryBackend;
///
/// #[job]
/// async fn resize_image(image_id: i64) {}
/// #[job]
/// async fn notify_user(user_id: i64) {}
/// #[job]
/// async fn cleanup(upload_id: i64) {}
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::new(MemoryBackend::new());
/// let batch = Batch::new()
///     .job(resize_image::with(1))
///     .jobs((2..=3).map(resize_image::with))
///     .on_success(notify_user::with(42))
///     .on_complete(cleanup::with(7))
///     .enqueue(&client)
///     .await?;
/// let info = client.batch(batch).await?.expect("just stored");
/// assert_eq!((info.total, info.pending), (3, 3));
/// assert_eq!(client.list(JobFilter::new().batch(batch)).await?.len(), 3);
/// # Ok(()) }
/// ```
///
/// A batch without jobs has nothing to wait for: its callbacks are
/// `Available` at once.
#[derive(Debug, Default)]
#[must_use = "a batch does nothing until `.enqueue(&client)`"]
pub struct Batch {
    jobs: Vec<JobBuilder>,
    on_success: Option<JobBuilder>,
    on_complete: Option<JobBuilder>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a job to the batch.
    pub fn job(mut self, job: JobBuilder) -> Self {
        self.jobs.push(job);
        self
    }

    /// Adds jobs to the batch.
    pub fn jobs(mut self, jobs: impl IntoIterator<Item = JobBuilder>) -> Self {
        self.jobs.extend(jobs);
        self
    }

    /// The job that runs once every job of the batch is `Completed`. If one
    /// ends `Dead` or `Cancelled`, this job is `Cancelled` instead.
    pub fn on_success(mut self, job: JobBuilder) -> Self {
        self.on_success = Some(job);
        self
    }

    /// The job that runs once every job of the batch has finished, whatever
    /// the outcome.
    pub fn on_complete(mut self, job: JobBuilder) -> Self {
        self.on_complete = Some(job);
        self
    }

    /// Stores the batch and its callbacks, all or nothing, waiting for
    /// room if the backend is full. A job of the batch may itself wait on
    /// parents (`.after(id)`); the callbacks wait on the batch's jobs in
    /// addition to any parents their builders name.
    pub async fn enqueue(self, client: &Client) -> Result<BatchId, EnqueueError> {
        let max_payload = client.max_payload_limit();
        let counted: Vec<_> = self
            .jobs
            .iter()
            .chain(&self.on_success)
            .chain(&self.on_complete)
            .map(JobBuilder::enqueued_metric)
            .collect();
        let convert = |job: JobBuilder| job.into_new_job(max_payload);
        let params = BatchInsertParams {
            jobs: self
                .jobs
                .into_iter()
                .map(convert)
                .collect::<Result<_, _>>()?,
            on_success: self.on_success.map(convert).transpose()?,
            on_complete: self.on_complete.map(convert).transpose()?,
            mode: InsertMode::Wait,
        };
        let inserted = client.backend().batch_insert(params).await?;
        for key in counted {
            count_enqueued(key, 1);
        }
        Ok(inserted.id)
    }
}

/// Where a batch stands, from [`Client::batch`](crate::Client::batch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchInfo {
    /// The batch.
    pub id: BatchId,
    /// Its jobs (not counting its callbacks).
    pub total: u64,
    /// Its jobs that have not finished.
    pub pending: u64,
    /// Its jobs that ended `Completed`.
    pub completed: u64,
    /// Its jobs that ended `Dead`.
    pub dead: u64,
    /// Its jobs that ended `Cancelled`.
    pub cancelled: u64,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When its last job finished, once none is pending.
    pub finished_at: Option<DateTime<Utc>>,
    /// The job that runs once every job is `Completed`.
    pub on_success: Option<JobId>,
    /// The job that runs once every job has finished.
    pub on_complete: Option<JobId>,
}

impl BatchInfo {
    /// A batch with no jobs counted yet; add them with [`count`](Self::count).
    /// For backends.
    pub fn new(id: BatchId, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            total: 0,
            pending: 0,
            completed: 0,
            dead: 0,
            cancelled: 0,
            created_at,
            finished_at: Some(created_at),
            on_success: None,
            on_complete: None,
        }
    }

    /// Sets the callbacks' ids. For backends.
    pub fn with_callbacks(mut self, on_success: Option<JobId>, on_complete: Option<JobId>) -> Self {
        self.on_success = on_success;
        self.on_complete = on_complete;
        self
    }

    /// Counts `n` jobs of the batch in `state`, the last of which finished
    /// at `finished_at` (for a finished state). For backends: a batch is
    /// finished when no job is pending, at its last job's finish.
    ///
    /// ```
    /// use chrono::Utc;
    /// use jobs_core::{BatchId, BatchInfo, JobState};
    /// let now = Utc::now();
    /// let info = BatchInfo::new(BatchId::new(1), now)
    ///     .count(JobState::Completed, 2, Some(now))
    ///     .count(JobState::Running, 1, None);
    /// assert_eq!((info.total, info.pending, info.completed), (3, 1, 2));
    /// assert_eq!(info.finished_at, None);
    /// ```
    pub fn count(mut self, state: JobState, n: u64, finished_at: Option<DateTime<Utc>>) -> Self {
        if n == 0 {
            return self;
        }
        self.total += n;
        match state {
            JobState::Completed => self.completed += n,
            JobState::Dead => self.dead += n,
            JobState::Cancelled => self.cancelled += n,
            _ => self.pending += n,
        }
        if state.is_finished() {
            self.finished_at = match (self.finished_at, finished_at) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        self.finished_at = self.finished_at.filter(|_| self.pending == 0);
        self
    }
}
