//! The enqueue builder that `#[job]` generates a `with(..)` function for.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::{
    EARLIEST, InsertMode, JobParent, LATEST, NewJob, ParentCondition, ScheduledJob, after,
    dedup_parents,
};
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
    parents: Vec<JobParent>,
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
            parents: Vec::new(),
        }
    }

    /// The kind name.
    pub fn kind(&self) -> &'static str {
        self.definition.name
    }

    /// The key of the kind's `jobs_enqueued_total` counter.
    pub(crate) fn enqueued_metric(&self) -> &'static metrics::Key {
        self.definition.enqueued_metric
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

    /// Runs only once job `parent` is `Completed` (Hangfire's
    /// `ContinueJobWith`). Until then the job is `Awaiting`; if `parent`
    /// ends `Dead` or `Cancelled`, or is deleted, this job is `Cancelled`
    /// with an error naming it, and so are the jobs waiting on this one.
    /// Call it again to wait on more parents. A parent that already
    /// finished is judged at enqueue; an id that names no stored job fails
    /// the enqueue with [`EnqueueError::UnknownParent`].
    ///
    /// ```rust,standalone_crate
    /// use jobs_core::{job, Client, JobState};
    /// use jobs_memory::MemoryBackend;
    ///
    /// #[job]
    /// async fn charge_card(order_id: i64) {}
    /// #[job]
    /// async fn send_receipt(order_id: i64) {}
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(MemoryBackend::new());
    /// let charge = charge_card::enqueue(&client, 7).await?;
    /// let receipt = send_receipt::with(7).after(charge).enqueue(&client).await?;
    /// let info = client.job(receipt).await?.expect("stored");
    /// assert_eq!(info.state, JobState::Awaiting);
    /// assert_eq!(info.parents, [charge]);
    /// # Ok(()) }
    /// ```
    pub fn after(mut self, parent: JobId) -> Self {
        self.parents.push(JobParent {
            id: parent,
            condition: ParentCondition::Completed,
        });
        self
    }

    /// Runs only once job `parent` has finished, whatever the outcome
    /// (`Completed`, `Dead`, `Cancelled`, or deleted). See
    /// [`after`](Self::after).
    pub fn after_finished(mut self, parent: JobId) -> Self {
        self.parents.push(JobParent {
            id: parent,
            condition: ParentCondition::Finished,
        });
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

    /// Checks the options and turns the builder into the job each tick of
    /// a run-time schedule enqueues. A delay or time (`.delay`, `.at`) and
    /// a `.unique_key` are refused: a schedule's ticks say when its jobs
    /// run, and each tick enqueues exactly one job. The error says what to
    /// change.
    pub(crate) fn into_scheduled_job(self, max_payload: usize) -> Result<ScheduledJob, String> {
        if self.run_at.is_some() {
            return Err(format!(
                "the job `{}` is given a delay or a time (`.delay`, `.at`, `.run_at`), but a schedule's jobs run at its ticks: remove it",
                self.kind()
            ));
        }
        if self.unique_key.is_some() {
            return Err(format!(
                "the job `{}` is given a `.unique_key(..)`, which a schedule does not use (each tick enqueues exactly one job): remove it",
                self.kind()
            ));
        }
        let row = self
            .into_new_job(max_payload)
            .map_err(|error| error.to_string())?;
        if !row.parents.is_empty() || row.batch.is_some() {
            return Err(format!(
                "the job `{}` waits for other jobs or belongs to a batch, which a schedule's jobs cannot",
                row.kind
            ));
        }
        Ok(ScheduledJob {
            kind: row.kind.into_owned(),
            queue: row.queue.into_owned(),
            args: row.args,
            priority: row.priority,
            max_attempts: row.max_attempts,
            version: row.version,
        })
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
        let mut parents = self.parents;
        dedup_parents(&mut parents);
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
            parents,
            batch: None,
            concurrency_key,
        })
    }
}
