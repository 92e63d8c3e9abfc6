//! Errors: what a job returns to steer its fate, and what the framework reports.

use std::fmt;
use std::time::Duration;

/// The error a job returns to say what happens next.
///
/// Any error type converts into a plain failure with `?`, so a job that
/// returns `Result<(), JobError>` can still use `?` on its own errors:
///
/// ```
/// use std::time::Duration;
/// use jobs_core::JobError;
///
/// fn check(amount: i64) -> Result<(), JobError> {
///     if amount < 0 {
///         // a retry will not fix this: straight to `Dead`
///         return Err(JobError::permanent(format!("negative amount {amount}")));
///     }
///     let _n: i32 = "12".parse()?; // a plain failed attempt if this fails
///     Ok(())
/// }
/// assert!(check(-1).unwrap_err().is_permanent());
/// assert_eq!(JobError::snooze(Duration::from_secs(5)).snoozed_for(), Some(Duration::from_secs(5)));
/// ```
#[derive(Debug)]
pub struct JobError {
    kind: JobErrorKind,
    message: String,
}

/// What a [`JobError`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobErrorKind {
    /// A failed attempt: retried per the job's policy.
    Failed,
    /// No retry: the job goes straight to `Dead`.
    Permanent,
    /// Run again after this delay without using up an attempt.
    Snooze(Duration),
    /// Stop for good: the job goes to `Cancelled`.
    Cancel,
}

impl JobError {
    /// A failed attempt, retried per the job's policy.
    pub fn failed(error: impl fmt::Display) -> Self {
        Self {
            kind: JobErrorKind::Failed,
            message: error.to_string(),
        }
    }

    /// An error a retry will not fix: the job goes straight to `Dead`.
    pub fn permanent(error: impl fmt::Display) -> Self {
        Self {
            kind: JobErrorKind::Permanent,
            message: error.to_string(),
        }
    }

    /// Run again after `delay` without using up an attempt.
    pub fn snooze(delay: Duration) -> Self {
        Self {
            kind: JobErrorKind::Snooze(delay),
            message: format!("snoozed for {delay:?}"),
        }
    }

    /// Stop for good: the job goes to `Cancelled` with `reason` in its history.
    pub fn cancel(reason: impl fmt::Display) -> Self {
        Self {
            kind: JobErrorKind::Cancel,
            message: reason.to_string(),
        }
    }

    /// What this error asks for.
    pub fn kind(&self) -> JobErrorKind {
        self.kind
    }

    /// The message recorded in the job's history.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `true` for [`JobError::permanent`].
    pub fn is_permanent(&self) -> bool {
        self.kind == JobErrorKind::Permanent
    }

    /// The delay of a [`JobError::snooze`].
    pub fn snoozed_for(&self) -> Option<Duration> {
        match self.kind {
            JobErrorKind::Snooze(delay) => Some(delay),
            _ => None,
        }
    }

    /// `true` for [`JobError::cancel`].
    pub fn is_cancel(&self) -> bool {
        self.kind == JobErrorKind::Cancel
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// `JobError` deliberately does not implement `std::error::Error`, so that this
// blanket conversion (what makes `?` work inside jobs) does not overlap with
// `From<T> for T`. The same trade-off as `anyhow::Error`.
impl<E> From<E> for JobError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        JobError::failed(error)
    }
}

/// A boxed error from a storage backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a job could not be enqueued. Nothing was stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError {
    /// The memory backend holds as many unfinished jobs as its capacity
    /// (from `try_enqueue`; `enqueue` waits instead).
    #[error(
        "queue full: the backend holds its capacity of {capacity} unfinished jobs; retry later or raise the capacity"
    )]
    QueueFull {
        /// The backend's capacity.
        capacity: usize,
    },
    /// The encoded arguments are larger than the client's limit.
    #[error(
        "payload of job `{kind}` is {size} bytes, over the limit of {limit} bytes; store large data elsewhere and pass its id"
    )]
    PayloadTooLarge {
        /// The job's kind.
        kind: String,
        /// The encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The queue name is not `[a-z0-9_-]{1,64}`.
    #[error("invalid queue name `{queue}` for job `{kind}`: use 1 to 64 of a-z, 0-9, `_` and `-`")]
    InvalidQueue {
        /// The job's kind.
        kind: String,
        /// The rejected name.
        queue: String,
    },
    /// An argument could not be encoded as JSON.
    #[error("arguments of job `{kind}` could not be encoded as JSON: {source}")]
    Encode {
        /// The job's kind.
        kind: String,
        /// The serializer's error.
        source: serde_json::Error,
    },
    /// The backend failed to store the job.
    #[error("the backend failed to store the job: {0}")]
    Backend(#[source] BoxError),
}

/// Why a worker could not be built. Each names the job or schedule at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A job takes a `State<T>` the builder was not given.
    #[error(
        "job `{job}` takes `State<{state}>`, but the worker was given no such state: add `.state(..)` with a `{state}` to the builder"
    )]
    MissingState {
        /// The job's kind.
        job: String,
        /// The missing state's type.
        state: String,
    },
    /// Two linked jobs share a kind name.
    #[error(
        "two jobs share the kind name `{kind}` ({first} and {second}): give one of them `#[job(name = \"..\")]`"
    )]
    DuplicateKind {
        /// The shared name.
        kind: String,
        /// Where the first is defined.
        first: String,
        /// Where the second is defined.
        second: String,
    },
    /// Two linked recurring jobs share a schedule id.
    #[error(
        "two recurring jobs share the schedule id `{id}` (`{first}` and `{second}`): ids must be unique"
    )]
    DuplicateScheduleId {
        /// The shared id.
        id: String,
        /// The first job's kind.
        first: String,
        /// The second job's kind.
        second: String,
    },
    /// `.only(..)` names a job that is not linked into this binary.
    #[error("`.only(..)` names job `{kind}`, but no such job is linked into this binary")]
    UnknownJob {
        /// The unknown kind.
        kind: String,
    },
    /// A queue name is not `[a-z0-9_-]{1,64}`.
    #[error("invalid queue name `{0}`: use 1 to 64 of a-z, 0-9, `_` and `-`")]
    InvalidQueue(String),
    /// A queue was given a concurrency of zero.
    #[error("queue `{0}` has concurrency 0: give it at least 1")]
    ZeroConcurrency(String),
    /// A setting is out of range.
    #[error("invalid worker setting: {0}")]
    InvalidSetting(String),
}

/// The error of client and worker operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Enqueueing failed.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    /// A worker could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The storage backend failed.
    #[error("backend error: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Wraps a backend's error.
    pub fn backend(error: impl Into<BoxError>) -> Self {
        Error::Backend(error.into())
    }
}

/// `Result` with [`Error`] as its default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
