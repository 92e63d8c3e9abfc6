//! The in-process backend for `jobs-core`: jobs live in this process's
//! memory, with no database and no set-up.
//!
//! # Overview
//!
//! Programs hand the backend to `jobs_core::Client` (to enqueue and
//! administer jobs) and `jobs_core::Worker` (to run them); both share it:
//!
//! ```no_run
//! # fn demo() -> Result<(), jobs_core::BuildError> {
//! use jobs_core::{Client, Worker};
//! use jobs_memory::MemoryBackend;
//!
//! let backend = MemoryBackend::with_capacity(10_000);
//! let client = Client::new(backend.clone());
//! let worker = Worker::builder(backend).queue("default", 8).build()?;
//! # Ok(()) }
//! ```
//!
//! Underneath, the client and the worker talk to it through the
//! [`Backend`](jobs_core::Backend) trait. This is what a job's life looks
//! like from there:
//!
//! ```
//! use std::time::Duration;
//! use jobs_core::backend::{Completion, FetchRequest, InsertMode, NewJob, Outcome};
//! use jobs_core::{Backend, Client, JobState};
//! use jobs_memory::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), jobs_core::BoxError> {
//! let backend = MemoryBackend::with_capacity(10_000);
//! let client = Client::new(backend.clone());
//!
//! // what `resize_image::enqueue(&client, 7, 640)` stores
//! let job = NewJob {
//!     kind: "resize_image".into(),
//!     queue: "media".into(),
//!     args: r#"{"image_id":7,"width":640}"#.into(),
//!     priority: 0,
//!     max_attempts: 4,
//!     scheduled_at: None,
//!     unique_key: None,
//! };
//! let ids = backend.job_insert_many(vec![job], InsertMode::Wait).await?;
//! assert_eq!(client.counts().await?["media"].available, 1);
//! assert_eq!(backend.len(), 1);
//!
//! // a worker claims it, runs it and reports the outcome
//! let batch = backend
//!     .job_fetch(FetchRequest {
//!         queue: "media",
//!         kinds: &["resize_image"],
//!         limit: 10,
//!         worker_id: "worker-1",
//!         lease: Duration::from_secs(30),
//!     })
//!     .await?;
//! let claimed = &batch.jobs[0];
//! assert_eq!((claimed.id, claimed.attempt), (ids[0], 1));
//! backend
//!     .job_complete_many(vec![Completion {
//!         id: claimed.id,
//!         attempt: claimed.attempt,
//!         outcome: Outcome::Completed,
//!     }])
//!     .await?;
//!
//! let info = client.job(ids[0]).await?.expect("kept for its retention period");
//! assert_eq!(info.state, JobState::Completed);
//! assert!(backend.is_empty());
//! # Ok(()) }
//! ```
//!
//! # Not durable
//!
//! Jobs are lost when the process exits, crashes or is killed: queued,
//! running and finished ones alike. Use `jobs_postgres::PgBackend` when jobs
//! must survive a restart, when several processes share one queue, or when a
//! job must be enqueued in the same transaction as the data it is about.
//! `MemoryBackend` is for development, tests, and work that may be lost
//! (cache warming, best-effort notifications) in a single process.
//!
//! # Bounded
//!
//! At most [`capacity`](MemoryBackend::capacity) unfinished jobs
//! (`Scheduled`, `Available`, `Running`, `Retryable`) are held
//! ([`DEFAULT_CAPACITY`] unless set with [`MemoryBackend::with_capacity`]).
//! When full, `Client::enqueue` and `enqueue_many` wait until enough jobs
//! finish (backpressure), and `Client::try_enqueue` fails at once with
//! `EnqueueError::QueueFull`. A batch is stored whole or not at all; a batch
//! with more new jobs than the capacity fails at once, as waiting could
//! never end. Two things may take the store over its capacity, because
//! refusing them would lose work: `Client::retry` of a finished job, and the
//! job of a cron tick.
//!
//! Finished jobs (`Completed`, `Dead`, `Cancelled`) do not count against the
//! capacity. They are kept for [`client.job(id)`](jobs_core::Client::job)
//! and `list` until their retention ends ([`DEFAULT_RETENTION_COMPLETED`],
//! [`DEFAULT_RETENTION_FAILED`]); at most [`DEFAULT_MAX_FINISHED`] of them
//! are kept at once, the oldest deleted first as soon as more finish, so
//! memory stays bounded at any throughput. A million queued jobs with a
//! 32-byte argument take about 220 MB; memory a drained burst used is given
//! back.
//!
//! # Behaviour worth knowing
//!
//! - Ids count up from 1 in insertion order.
//! - Workers claim due jobs by priority (lower first), then due time, then
//!   id. Jobs of a kind the worker does not know stay `Available` without
//!   holding up the others.
//! - Storing a job, and a job becoming ready again (a release at shutdown,
//!   a retry, a rescue), wakes the idle workers of its queue at once; no
//!   polling is needed.
//! - A running job whose lease expires (its worker stopped heartbeating) is
//!   rescued by the next maintenance pass: its attempt fails with the error
//!   `"worker lost"` and it is retried, or is `Dead` if that was its last
//!   attempt.
//! - Due times, leases and retention follow the system clock, or the clock
//!   given to [`MemoryBackend::clock`].
//! - A `Scheduled` or `Retryable` job whose time has come is shown as
//!   `Available` by `job`, `list` and `counts` (the store moves it on the
//!   next read or fetch, as the schedulers of River and Oban do).
//! - A unique job's key is held while the job is unfinished: enqueueing
//!   another job of the same kind and key returns the holder's id. Retrying a
//!   finished unique job whose key another unfinished job holds now is
//!   refused (`retry` returns `false`).
//! - The single process always leads: cron ticks and maintenance run on
//!   every worker of this backend, and the compare-and-set on each tick keeps
//!   one job per tick.
//! - Finished jobs past their retention are deleted by maintenance passes,
//!   and whenever other jobs finish. A pass reports, as `pruned`, the jobs
//!   deleted since the previous pass, including those deleted at once to stay
//!   under [`max_finished`](MemoryBackend::max_finished).

#![warn(missing_docs, unreachable_pub)]

mod backend;
mod config;
mod job;
mod names;
mod ready;
mod retention;
mod schedules;
mod store;
mod table;
mod view;

pub use crate::backend::MemoryBackend;
pub use crate::config::{
    DEFAULT_CAPACITY, DEFAULT_MAX_FINISHED, DEFAULT_RETENTION_COMPLETED, DEFAULT_RETENTION_FAILED,
};
