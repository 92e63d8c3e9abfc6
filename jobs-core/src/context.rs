//! What the worker injects into a job: shared state and the run's context.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::JobId;

/// Shared application state, injected into any job parameter of type
/// `State<T>`. Give it to the worker with `Worker::builder(..).state(value)`.
///
/// `State<T>` derefs to `T` and clones cheaply (it is an `Arc<T>`).
///
/// ```
/// use jobs_core::State;
/// struct App { name: &'static str }
/// let state = State::new(App { name: "shop" });
/// assert_eq!(state.name, "shop");
/// ```
pub struct State<T: ?Sized>(pub Arc<T>);

impl<T> State<T> {
    /// Wraps a value (handy to call a job function directly in a unit test).
    pub fn new(value: T) -> Self {
        State(Arc::new(value))
    }
}

impl<T: ?Sized> State<T> {
    /// The shared handle.
    pub fn arc(&self) -> &Arc<T> {
        &self.0
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

impl<T> From<Arc<T>> for State<T> {
    fn from(arc: Arc<T>) -> Self {
        State(arc)
    }
}

/// This run of a job: its id and attempt, and the cancellation signal.
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
    kind: String,
    queue: String,
    cancellation: CancellationToken,
}

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
        Self {
            inner: Arc::new(ContextInner {
                id,
                attempt,
                max_attempts,
                kind: kind.to_owned(),
                queue: queue.to_owned(),
                cancellation,
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
            .finish()
    }
}
