//! The enqueue builder that `#[job]` generates a `with(..)` function for.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::{EARLIEST, InsertMode, LATEST, NewJob, after};
use crate::queue_name::is_valid_queue_name;
use crate::registry::JobDefinition;
use crate::{Client, EnqueueError, JobId};

/// When a job may run: after a delay, or at a time.
///
/// Both `Duration` and `DateTime<Utc>` convert into it, which is what lets
/// the generated `schedule` take either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAt {
    /// This long after enqueueing.
    After(Duration),
    /// At this time (a past time means now).
    At(DateTime<Utc>),
}

impl RunAt {
    /// The absolute time, counting a delay from `now`, within
    /// [`EARLIEST`]..=[`LATEST`].
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            RunAt::At(at) => at.clamp(EARLIEST, LATEST),
            RunAt::After(delay) => after(now, delay),
        }
    }
}

impl From<Duration> for RunAt {
    fn from(delay: Duration) -> Self {
        RunAt::After(delay)
    }
}

impl From<DateTime<Utc>> for RunAt {
    fn from(at: DateTime<Utc>) -> Self {
        RunAt::At(at)
    }
}

/// One job about to be enqueued, with its options.
///
/// Made by the generated `my_job::with(args..)`; every option defaults to
/// what the `#[job]` attribute says.
///
/// ```no_run,standalone_crate
/// # use std::time::Duration;
/// # use jobs_core::{job, Client};
/// #[job(queue = "mail")]
/// async fn send_welcome_email(user_id: i64, template: String) {}
///
/// # async fn demo(client: &Client) -> Result<(), jobs_core::EnqueueError> {
/// let id = send_welcome_email::with(42, "welcome".into())
///     .delay(Duration::from_secs(60))
///     .priority(-5)
///     .queue("critical")
///     .unique_key("welcome-42")
///     .enqueue(client)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a job builder does nothing until `.enqueue(&client)`"]
pub struct JobBuilder {
    definition: &'static JobDefinition,
    args: Result<String, serde_json::Error>,
    queue: Option<String>,
    priority: Option<i16>,
    run_at: Option<RunAt>,
    unique_key: Option<String>,
    retries: Option<u32>,
}

impl JobBuilder {
    /// A builder for `definition` with encoded arguments (used by the
    /// generated code).
    pub fn new(
        definition: &'static JobDefinition,
        args: Result<String, serde_json::Error>,
    ) -> Self {
        Self {
            definition,
            args,
            queue: None,
            priority: None,
            run_at: None,
            unique_key: None,
            retries: None,
        }
    }

    /// The kind name.
    pub fn kind(&self) -> &'static str {
        self.definition.name
    }

    /// Runs no earlier than `delay` from now.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.run_at = Some(RunAt::After(delay));
        self
    }

    /// Runs no earlier than `at`.
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(RunAt::At(at));
        self
    }

    /// Runs no earlier than `when` (a delay or a time).
    pub fn run_at(mut self, when: impl Into<RunAt>) -> Self {
        self.run_at = Some(when.into());
        self
    }

    /// Lower runs first within a queue.
    pub fn priority(mut self, priority: i16) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Runs on `queue` instead of the job's default queue. An invalid name
    /// fails at enqueue with [`EnqueueError::InvalidQueue`].
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Makes the enqueue a no-op returning the existing id while an
    /// unfinished job of this kind has the same key.
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Overrides the number of retries after the first attempt.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Stores the job, waiting for room if the backend is full.
    pub async fn enqueue(self, client: &Client) -> Result<JobId, EnqueueError> {
        client.enqueue(self).await
    }

    /// Stores the job, or fails with [`EnqueueError::QueueFull`] if the
    /// backend is full.
    pub async fn try_enqueue(self, client: &Client) -> Result<JobId, EnqueueError> {
        client.insert_one(self, InsertMode::Try).await
    }

    /// Checks the options and turns the builder into the row to store
    /// (for backends that insert on their own connections, like
    /// `enqueue_tx`). `max_payload` is the limit on the encoded arguments.
    pub fn into_new_job(self, max_payload: usize) -> Result<NewJob, EnqueueError> {
        let definition = self.definition;
        let kind = definition.name;
        let args = self.args.map_err(|source| EnqueueError::Encode {
            kind: kind.to_owned(),
            source,
        })?;
        if args.len() > max_payload {
            return Err(EnqueueError::PayloadTooLarge {
                kind: kind.to_owned(),
                size: args.len(),
                limit: max_payload,
            });
        }
        let queue = match self.queue {
            None => Cow::Borrowed(definition.queue),
            Some(queue) if is_valid_queue_name(&queue) => Cow::Owned(queue),
            Some(queue) => {
                return Err(EnqueueError::InvalidQueue {
                    kind: kind.to_owned(),
                    queue,
                });
            }
        };
        let unique_key = match self.unique_key {
            Some(key) => Some(key),
            None if definition.unique => Some(args.clone()),
            None => None,
        };
        let concurrency_key = definition.concurrency_key_of(&args);
        let max_attempts = match self.retries {
            Some(retries) => retries.saturating_add(1),
            None => definition.retry.max_attempts(),
        };
        Ok(NewJob {
            kind: Cow::Borrowed(kind),
            queue,
            args,
            priority: self.priority.unwrap_or(definition.priority),
            max_attempts,
            version: definition.version,
            scheduled_at: self.run_at.map(|when| when.resolve(Utc::now())),
            unique_key,
            parents: Vec::new(),
            batch: None,
            concurrency_key,
        })
    }
}
