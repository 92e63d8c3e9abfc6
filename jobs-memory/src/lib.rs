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
//! use jobs_core::backend::{
//!     InsertMode, JobCompleteManyParams, JobFetchParams, JobInsertManyParams, JobTransition,
//!     NewJob, RunningAttempt,
//! };
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
//!     version: 1,
//!     scheduled_at: None,
//!     unique_key: None,
//!     parents: Vec::new(),
//!     batch: None,
//!     concurrency_key: None,
//! };
//! let ids = backend
//!     .job_insert_many(JobInsertManyParams { jobs: vec![job], mode: InsertMode::Wait })
//!     .await?;
//! assert_eq!(client.counts().await?["media"].available, 1);
//! assert_eq!(backend.len(), 1);
//!
//! // a worker claims it, runs it, and stores what jobs-core decided
//! let batch = backend
//!     .job_fetch(JobFetchParams {
//!         queue: "media",
//!         kinds: &["resize_image"],
//!         versions: &[1],
//!         limit: 10,
//!         worker_id: "worker-1",
//!         lease: Duration::from_secs(30),
//!         flow: None,
//!     })
//!     .await?;
//! let claimed = &batch.jobs[0];
//! assert_eq!((claimed.id, claimed.attempt), (ids[0], 1));
//! let run = RunningAttempt { id: claimed.id, attempt: claimed.attempt };
//! let done = JobTransition {
//!     run,
//!     state: JobState::Completed,
//!     scheduled_at: None,
//!     attempt_counted: true,
//!     error: None,
//! };
//! backend
//!     .job_complete_many(JobCompleteManyParams { transitions: vec![done] })
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
//! and `list` until the leading worker prunes them after their retention
//! (`WorkerBuilder::retention_completed` and `retention_failed`); at most [`DEFAULT_MAX_FINISHED`] of them
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
//!   rescued by the leader's next maintenance pass: its attempt fails with
//!   an error starting `"worker lost"` and it is retried after its backoff,
//!   or is `Dead` if that was its last attempt.
//! - Due times, leases and retention follow the system clock, or the clock
//!   given to [`MemoryBackend::clock`].
//! - A `Scheduled` or `Retryable` job whose time has come is shown as
//!   `Available` by `job`, `list` and `counts` (the store moves it on the
//!   next read or fetch, as the schedulers of River and Oban do).
//! - A unique job's key is held while the job is unfinished: enqueueing
//!   another job of the same kind and key returns the holder's id. Retrying a
//!   finished unique job whose key another unfinished job holds now is
//!   refused (`retry` returns `false`).
//! - Several workers may share one backend in a process; one of them leads
//!   at a time (cron ticks and maintenance), as on a database.
//! - Each running worker is listed by `Client::workers` until its lease
//!   ends after its last heartbeat, or at once removed when it shuts down.
//! - `Client::health` reports the store `Degraded` once it holds 75 % of
//!   its capacity and `Unhealthy` at 95 % (configurable with
//!   `HealthThresholds`).
//! - Finished jobs past their retention are deleted by the leader's
//!   maintenance passes; the oldest are deleted at once, whatever their
//!   retention, to stay under [`max_finished`](MemoryBackend::max_finished).

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
mod workers;

pub use crate::backend::MemoryBackend;
pub use crate::config::{DEFAULT_CAPACITY, DEFAULT_MAX_FINISHED};
