//! Errors: what a job returns to steer its fate, and what the framework reports.

use std::fmt;
use std::time::Duration;

use crate::JobId;

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
    ///
    /// The message is `error` formatted with `{:#}`, which is how
    /// `anyhow::Error` prints its whole chain of context:
    ///
    /// ```
    /// # use jobs_core::JobError;
    /// # let error = anyhow::anyhow!("connection refused").context("talking to smtp");
    /// assert_eq!(JobError::failed(error).message(), "talking to smtp: connection refused");
    /// ```
    pub fn failed(error: impl fmt::Display) -> Self {
        Self {
            kind: JobErrorKind::Failed,
            message: format!("{error:#}"),
        }
    }

    /// An error a retry will not fix: the job goes straight to `Dead`.
    /// Formatted with `{:#}`, as for [`failed`](JobError::failed).
    pub fn permanent(error: impl fmt::Display) -> Self {
        Self {
            kind: JobErrorKind::Permanent,
            message: format!("{error:#}"),
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
            message: format!("{reason:#}"),
        }
    }

    /// A failed attempt whose message is `error` followed by each of its
    /// [`source`](std::error::Error::source)s that its message does not
    /// already include: `talking to smtp: connection refused`.
    pub(crate) fn failed_with_sources(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            kind: JobErrorKind::Failed,
            message: chain_message(error),
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

/// `error`'s message, then each source's that is not already part of it,
/// joined with `": "`. Most errors leave their source out of their own
/// message (the Rust API guidelines' advice), some repeat it; both read
/// once here.
fn chain_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

// `JobError` deliberately does not implement `std::error::Error`, so that this
// blanket conversion (what makes `?` work inside jobs) does not overlap with
// `From<T> for T`. The same trade-off as `anyhow::Error`.
impl<E> From<E> for JobError
where
    E: std::error::Error + Send + Sync + 'static,
{
    /// A failed attempt whose message carries the error's sources.
    fn from(error: E) -> Self {
        JobError::failed_with_sources(&error)
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
    /// `.after(id)` or `.after_finished(id)` names a job that is not stored
    /// (never enqueued, deleted, or pruned after its retention period).
    #[error(
        "job {0}, named as a parent with `.after(..)` or `.after_finished(..)`, does not exist"
    )]
    UnknownParent(JobId),
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
    /// A queue name given to the client is not `[a-z0-9_-]{1,64}`.
    #[error("invalid queue name `{0}`: use 1 to 64 of a-z, 0-9, `_` and `-`")]
    InvalidQueue(String),
    /// The storage backend failed.
    #[error("backend error: {0}")]
    Backend(#[source] BoxError),
    /// No recurring schedule with this id is stored
    /// ([`Client::trigger_schedule`](crate::Client::trigger_schedule)).
    #[error("no recurring schedule with id `{0}` is stored")]
    UnknownSchedule(String),
    /// A run-time schedule was refused (`Client::upsert_schedule`): a bad
    /// id, cron expression or zone, no job or a job the builder's own
    /// checks refuse, a job option a schedule cannot honour, or an id that
    /// a `#[recurring]` declaration holds. Nothing was stored.
    #[error("invalid schedule `{id}`: {message}")]
    InvalidSchedule {
        /// The schedule's id, as given.
        id: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A stored job's arguments do not decode as its job's arguments (from
    /// `NAME::enqueued`).
    #[error("job {id}: {message}")]
    Arguments {
        /// The job.
        id: JobId,
        /// What does not decode.
        message: String,
    },
}

impl Error {
    /// Wraps a backend's error.
    pub fn backend(error: impl Into<BoxError>) -> Self {
        Error::Backend(error.into())
    }
}

/// `Result` with [`Error`] as its default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
pub(crate) mod tests {
    use std::io;

    use super::*;

    /// An error that, as the API guidelines advise, leaves its source out
    /// of its own message.
    #[derive(Debug)]
    pub(crate) struct Smtp(pub(crate) io::Error);

    impl fmt::Display for Smtp {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("talking to smtp")
        }
    }

    impl std::error::Error for Smtp {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// One that repeats its source in its message.
    #[derive(Debug)]
    struct Verbose(Smtp);

    impl fmt::Display for Verbose {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "sending the welcome mail: {}", self.0)
        }
    }

    impl std::error::Error for Verbose {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    pub(crate) fn refused() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
    }

    #[test]
    fn question_mark_keeps_every_source_once() {
        fn send() -> Result<(), JobError> {
            Err(Verbose(Smtp(refused())))?
        }
        let error = send().unwrap_err();
        assert_eq!(error.kind(), JobErrorKind::Failed);
        assert_eq!(
            error.message(),
            "sending the welcome mail: talking to smtp: connection refused"
        );
        assert_eq!(
            JobError::from(Smtp(refused())).message(),
            "talking to smtp: connection refused"
        );
    }
}
