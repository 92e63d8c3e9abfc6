//! Background jobs for Rust: annotate an async function, enqueue it with a
//! compiler-checked call, and run it on a worker that retries failures,
//! runs schedules and shuts down cleanly.
//!
//! # Overview
//!
//! ```rust,standalone_crate
//! use std::time::Duration;
//! use jobs_core::prelude::*;
//! use jobs_memory::MemoryBackend;
//!
//! #[derive(Clone)]
//! struct Mailer;
//!
//! #[job(retries = 3, backoff = "exponential", queue = "mail")]
//! async fn send_welcome_email(mailer: State<Mailer>, user_id: i64, template: String) -> Result<(), std::io::Error> {
//!     println!("mailing {template} to user {user_id}");
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = MemoryBackend::new();
//! let client = Client::new(backend.clone());
//! let id = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
//!
//! let worker = Worker::builder(backend)
//!     .state(Mailer)
//!     .queue("mail", 4)
//!     .only(&[send_welcome_email::NAME])
//!     .build()?
//!     .start();
//! # for _ in 0..200 {
//! #     if client.job(id).await?.is_some_and(|job| job.state == JobState::Completed) { break }
//! #     tokio::time::sleep(Duration::from_millis(10)).await;
//! # }
//! worker.shutdown().await;
//! assert_eq!(client.job(id).await?.unwrap().state, JobState::Completed);
//! # Ok(()) }
//! ```
//!
//! # Concepts
//!
//! - A **job** is an `async fn` marked `#[job(..)]`. Its parameters of type
//!   [`State<T>`] and [`JobContext`] are injected by the worker; every other
//!   parameter is an argument, stored as JSON. Next to the function, the
//!   macro generates a type of the same name whose associated items are the
//!   typed `enqueue`, `schedule`, `with` and `NAME` (and `enqueued`, for
//!   tests).
//! - A **recurring job** is an `async fn` marked `#[recurring(cron = .., id = ..)]`:
//!   each tick of the schedule enqueues one run, however many workers run.
//!   Schedules can also come from data at run time: a [`Schedule`] stored
//!   with [`Client::upsert_schedule`] enqueues any `#[job]` with the
//!   arguments given, by the same rules.
//! - The [`Client`] stores jobs and administers them; the [`Worker`] runs
//!   them. Both talk to a [`Backend`]: `jobs_memory::MemoryBackend` (in
//!   process, no set-up, not durable) or `jobs_postgres::PgBackend`.
//! - A job's fate after an error is its [`retry::RetryPolicy`] unless the
//!   job says otherwise with a [`JobError`]: `permanent`, `snooze`, `cancel`.
//! - Operating it: [`Client::workers`] lists the live workers (each
//!   heartbeats into the store, and drops off within its lease once it
//!   stops), [`Client::health`] judges the store and its workers
//!   ([`Health`]: healthy, degraded or unhealthy, with a reason for each
//!   problem; thresholds in [`HealthThresholds`]), and
//!   [`Client::trigger_schedule`] runs a stored schedule's job now. The
//!   `jobs` command (crate `jobs-cli`) does the same from a shell for a
//!   PostgreSQL store.
//! - In a service, run the worker until the process is asked to stop:
//!   `worker.run_until(jobs_core::shutdown_signal()).await?` shuts down
//!   gracefully on SIGINT (Ctrl-C) or SIGTERM, the signal a container
//!   platform sends first.
//!
//! # Testing your own code
//!
//! A test runs the code under test on a `MemoryBackend`, reads back what it
//! enqueued with the generated `NAME::enqueued` (the typed arguments of the
//! kind's jobs not yet started, in enqueue order), then runs those jobs, and
//! the jobs they enqueue, in its own task with [`Worker::drain`], which
//! returns a [`DrainReport`]. Here, the whole test of a sign-up handler:
//!
//! ```rust,standalone_crate
//! use jobs_core::{job, Client, DrainReport, JobFilter, JobState, State, Worker};
//! use jobs_memory::MemoryBackend;
//!
//! #[derive(Clone)]
//! struct Mailer;
//!
//! #[job(queue = "mail")]
//! async fn send_welcome_email(_mailer: State<Mailer>, user_id: i64, template: String) {}
//!
//! /// The web handler under test: stores the user, enqueues the mail.
//! async fn sign_up(client: &Client, email: &str) -> Result<i64, jobs_core::EnqueueError> {
//!     let user_id = 42; // stored somewhere, under this id
//!     let template = if email.ends_with(".de") { "willkommen" } else { "welcome" };
//!     send_welcome_email::enqueue(client, user_id, template.into()).await?;
//!     Ok(user_id)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = MemoryBackend::new();
//! let client = Client::new(backend.clone());
//! sign_up(&client, "ada@example.com").await?;
//!
//! let pending: Vec<(i64, String)> = send_welcome_email::enqueued(&client).await?;
//! assert_eq!(pending, vec![(42, "welcome".to_string())]);
//!
//! let report: DrainReport = Worker::builder(backend)
//!     .state(Mailer)
//!     .queue("mail", 1)
//!     .build()?
//!     .drain()
//!     .await?;
//! assert_eq!(report, DrainReport { completed: 1, ..DrainReport::default() });
//! assert!(send_welcome_email::enqueued(&client).await?.is_empty());
//! let done = client.list(JobFilter::new().state(JobState::Completed)).await?;
//! assert_eq!(done.len(), 1);
//! # Ok(()) }
//! ```
//!
//! To test retries and scheduled jobs, give the backend and the worker one
//! [`ManualClock`] (`MemoryBackend::new().clock(clock.clone())`,
//! `Worker::builder(..).clock(clock.clone())`): a failed attempt's retry
//! is then due when the test moves the clock past its delay, and the next
//! `drain` runs it.
//!
//! # Feature flags
//!
//! - `macros` (default): re-exports `#[job]` and `#[recurring]`.
//! - `signal` (default): `shutdown_signal()`, which completes on SIGINT or
//!   SIGTERM (Ctrl-C off Unix), for `worker.run_until(jobs_core::shutdown_signal())`.
//! - `testing`: the backend conformance suite, module `testing` (what it is
//!   for and how a backend runs it: [`backend`]).

#![warn(missing_docs, unreachable_pub)]

extern crate self as jobs_core;

pub mod backend;
mod batch;
mod builder;
mod client;
mod clock;
mod context;
pub mod cron;
mod error;
mod health;
mod id;
mod info;
mod job_state;
mod queue_name;
mod registry;
pub mod retry;
mod schedule;
mod shared_state;
#[cfg(feature = "signal")]
mod signal;
pub mod wake;
mod worker;
mod worker_info;

#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::backend::Backend;
pub use crate::batch::{Batch, BatchInfo};
pub use crate::builder::{JobBuilder, RunAt};
pub use crate::client::{Client, DEFAULT_MAX_PAYLOAD};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::context::JobContext;
pub use crate::cron::Misfire;
pub use crate::error::{BoxError, BuildError, EnqueueError, Error, JobError, JobErrorKind, Result};
pub use crate::health::{
    DEFAULT_MAX_QUEUE_LAG, Health, HealthInputs, HealthStatus, HealthThresholds,
};
pub use crate::id::{BatchId, JobId};
pub use crate::info::{
    AttemptError, Counts, FinishedMinute, JobFilter, JobInfo, QueueCounts, QueueInfo, ScheduleInfo,
};
pub use crate::job_state::{JobState, UnknownJobState};
pub use crate::queue_name::{DEFAULT_QUEUE, is_valid_queue_name};
pub use crate::schedule::{MAX_SCHEDULE_ID_LEN, Schedule, ScheduleOrigin};
pub use crate::shared_state::State;
#[cfg(feature = "signal")]
pub use crate::signal::shutdown_signal;
pub use crate::worker::config as worker_defaults;
pub use crate::worker::{DrainReport, Worker, WorkerBuilder, WorkerHandle};
pub use crate::worker_info::{WorkerInfo, WorkerQueue};

pub use crate::worker::metrics::names as metric_names;

#[cfg(feature = "macros")]
pub use jobs_macros::{job, recurring};

/// The names most programs need: `use jobs_core::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "signal")]
    pub use crate::shutdown_signal;
    pub use crate::{
        Client, JobContext, JobError, JobId, JobState, Misfire, Schedule, State, Worker,
    };
    #[cfg(feature = "macros")]
    pub use crate::{job, recurring};
}
