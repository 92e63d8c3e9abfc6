//! What the worker tells a job about its run: the [`JobContext`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_util::sync::CancellationToken;

use crate::JobId;

/// This run of a job: its id and attempt, the cancellation signal, and a
/// place to report progress.
///
/// Add a `JobContext` parameter to a job function and the worker injects it.
/// Long jobs should watch [`cancelled`](JobContext::cancelled): it fires
/// when the job's `timeout` passes, when the worker shuts down past its
/// `shutdown_timeout`, or when the job is cancelled through the client.
///
/// ```
/// use jobs_core::{JobContext, JobError};
///
/// async fn long_running(ctx: JobContext) -> Result<(), JobError> {
///     for _chunk in 0..10 {
///         if ctx.is_cancelled() {
///             return Err(JobError::failed("stopped part-way; will resume on retry"));
///         }
///         // ... work on a chunk ...
///     }
///     Ok(())
/// }
/// # let ctx = JobContext::detached(jobs_core::JobId::new(1), 1, 4);
/// # futures_executor_free(long_running(ctx));
/// # fn futures_executor_free<F>(_f: F) {}
/// ```
#[derive(Clone)]
pub struct JobContext {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    id: JobId,
    attempt: u32,
    max_attempts: u32,
    // borrowed from the job's definition, shared with the queue: a run
    // allocates no copies of its names
    kind: Cow<'static, str>,
    queue: Arc<str>,
    cancellation: CancellationToken,
    /// The latest progress as `f32` bits, [`NO_PROGRESS`] if none; the
    /// worker's heartbeat reads it through its own clone of the context.
    progress: AtomicU32,
}

/// `f32` NaN bits that no clamped progress can take: no progress yet.
const NO_PROGRESS: u32 = u32::MAX;

impl JobContext {
    /// A context for the given run (used by the worker).
    pub fn new(
        id: JobId,
        kind: &str,
        queue: &str,
        attempt: u32,
        max_attempts: u32,
        cancellation: CancellationToken,
    ) -> Self {
        Self::with_names(
            id,
            Cow::Owned(kind.to_owned()),
            Arc::from(queue),
            attempt,
            max_attempts,
            cancellation,
        )
    }

    pub(crate) fn with_names(
        id: JobId,
        kind: Cow<'static, str>,
        queue: Arc<str>,
        attempt: u32,
        max_attempts: u32,
        cancellation: CancellationToken,
    ) -> Self {
        Self {
            inner: Arc::new(ContextInner {
                id,
                attempt,
                max_attempts,
                kind,
                queue,
                cancellation,
                progress: AtomicU32::new(NO_PROGRESS),
            }),
        }
    }

    /// A context not tied to any worker, for calling a job function directly
    /// in a unit test. Its cancellation never fires unless you fire it
    /// through [`cancellation_token`](JobContext::cancellation_token).
    pub fn detached(id: JobId, attempt: u32, max_attempts: u32) -> Self {
        Self::new(
            id,
            "detached",
            "default",
            attempt,
            max_attempts,
            CancellationToken::new(),
        )
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.inner.id
    }

    /// This attempt's number, counting from 1.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// The most attempts the job may take.
    pub fn max_attempts(&self) -> u32 {
        self.inner.max_attempts
    }

    /// `true` when this is the last attempt the job may take.
    pub fn is_last_attempt(&self) -> bool {
        self.inner.attempt >= self.inner.max_attempts
    }

    /// The job's kind name.
    pub fn kind(&self) -> &str {
        &self.inner.kind
    }

    /// The queue the job runs on.
    pub fn queue(&self) -> &str {
        &self.inner.queue
    }

    /// `true` once this run has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancellation.is_cancelled()
    }

    /// Completes when this run has been asked to stop.
    pub async fn cancelled(&self) {
        self.inner.cancellation.cancelled().await
    }

    /// Reports how far this run has got, as a fraction from 0.0 to 1.0
    /// (clamped; NaN is ignored). Cheap: the worker writes the latest value
    /// to the store at its next heartbeat, where `JobInfo::progress` shows it.
    ///
    /// ```
    /// # let ctx = jobs_core::JobContext::detached(jobs_core::JobId::new(1), 1, 1);
    /// ctx.set_progress(0.25);
    /// assert_eq!(ctx.progress(), Some(0.25));
    /// ctx.set_progress(7.0);
    /// assert_eq!(ctx.progress(), Some(1.0));
    /// ```
    pub fn set_progress(&self, fraction: f32) {
        if !fraction.is_nan() {
            self.inner
                .progress
                .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
        }
    }

    /// The progress this run reported last.
    pub fn progress(&self) -> Option<f32> {
        let bits = self.inner.progress.load(Ordering::Relaxed);
        (bits != NO_PROGRESS).then(|| f32::from_bits(bits))
    }

    /// The token behind [`cancelled`](JobContext::cancelled), to hand to
    /// libraries that take a `CancellationToken`.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.inner.cancellation
    }
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.inner.id)
            .field("kind", &self.inner.kind)
            .field("queue", &self.inner.queue)
            .field("attempt", &self.inner.attempt)
            .field("max_attempts", &self.inner.max_attempts)
            .field("cancelled", &self.is_cancelled())
            .field("progress", &self.progress())
            .finish()
    }
}
