//! The PostgreSQL backend of `jobs-core`: durable, transactional,
//! multi-node background jobs.
//!
//! # Overview
//!
//! ```no_run
//! use jobs_core::prelude::*;
//! use jobs_postgres::prelude::*;
//!
//! #[job(retries = 3)]
//! async fn send_welcome_email(user_id: i64) -> anyhow::Result<()> {
//!     println!("welcome, user {user_id}");
//!     Ok(())
//! }
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let backend = PgBackend::connect("postgres://localhost/app").await?;
//! backend.migrate().await?; // create or upgrade the schema; idempotent
//!
//! let client = Client::new(backend.clone());
//! send_welcome_email::enqueue(&client, 42).await?; // returns once committed
//!
//! Worker::builder(backend).build()?.run_until(tokio::signal::ctrl_c()).await?;
//! # Ok(()) }
//! ```
//!
//! # What it guarantees
//!
//! - **Durable, at least once.** An enqueue returns once the job is
//!   committed. A claimed job holds a lease that its worker's heartbeat
//!   renews; when a worker dies (`kill -9`, a lost network) the lease
//!   expires and the elected leader's rescuer puts the job back for its next
//!   attempt, after the job's own backoff, with an error starting `"worker
//!   lost"` in its history (or makes it `Dead` if its attempts are spent),
//!   within lease + maintenance interval (30 s + 15 s by default). Write jobs
//!   so that running twice is harmless.
//! - **Fenced completions.** Every outcome is written only while the job is
//!   still `Running` at the attempt that produced it, so a worker that
//!   stalled past its lease cannot overwrite what the newer attempt did.
//! - **Transactional enqueue.** [`EnqueueTx::enqueue_tx`] stores a job inside
//!   your `sqlx::Transaction`: it exists if and only if that commits.
//! - **Unique jobs by the database.** A partial unique index over
//!   unfinished jobs' `(kind, unique_key)`; concurrent enqueues get one row
//!   and the same id, also when a competing transaction rolls back.
//! - **One leader.** Cron ticks, rescue and pruning run on one elected
//!   worker; a new one takes over when its term lapses. Each tick's jobs are
//!   inserted in the same transaction that advances the schedule by
//!   compare-and-set, so a tick never yields two jobs.
//! - **Flow control across nodes.** A kind with `concurrency` or
//!   `rate_limit` is claimed in a transaction that holds an advisory lock
//!   on the schema and kind, so its limits hold across every worker; its
//!   starts are stamped with the server's clock. Kinds without limits never
//!   take the lock and are claimed as before. A paused queue is skipped by
//!   every claim from the next one on; a resume notifies idle workers. A
//!   job held back by a concurrency limit starts when a slot frees: at once
//!   on the worker whose run ended, within the poll interval on others.
//! - **Pruning.** The leader deletes finished jobs after their retention
//!   (`Completed` 24 h, `Dead`/`Cancelled` 7 days by default; set on the
//!   worker with `retention_completed` and `retention_failed`) in batches.
//! - **Reconnection.** Errors are returned, never panics; the worker retries
//!   with backoff and the pool opens new connections when the server is
//!   back. After a server restart, an enqueue, claim, completion, heartbeat
//!   or progress report that meets a pooled connection whose session the
//!   server ended runs once more on a live connection, so a busy client's
//!   first enqueues succeed. Only an error that proves nothing was
//!   committed (the server's `FATAL` 57P01, 57P02, 57P03 or 57P05, or a
//!   broken pipe while sending) is retried; an error while reading the
//!   answer is returned, as the statement may have been committed.
//!
//! # How it is fast
//!
//! Jobs are claimed in batches by one `UPDATE ... WHERE ctid =
//! ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED))` statement over a partial
//! index of waiting rows; outcomes are written in batches with one
//! `UPDATE ... FROM unnest(..)`; many jobs are inserted with one
//! `INSERT ... SELECT FROM unnest(..)`. Each insert statement sends one
//! `NOTIFY` (for jobs ready now or due later), which a `LISTEN` connection
//! per process turns into wake-ups of idle queues; workers poll as well, so
//! a lost notification costs at most the poll interval.
//!
//! # Schema
//!
//! Everything lives in one schema (default `jobs`, configurable with
//! [`PgBackend::builder`]): tables `jobs`, `job_waits` (what awaiting jobs
//! still wait for), `batches`, `schedules`, `schedule_kinds`, `leader`,
//! `queues` (pause records), `job_starts` (recent starts of rate-limited kinds),
//! `workers` (the live workers, one row each, upserted at every heartbeat) and
//! `schema_migrations`. [`PgBackend::migrate`] applies the embedded,
//! versioned migrations in one transaction under an advisory lock; running
//! it again does nothing. A binary refuses a schema migrated by a newer
//! version ([`Error::SchemaTooNew`]): `migrate()` fails, and fetches,
//! enqueues (`enqueue_tx` too), elections and maintenance fail with that
//! message until the binary is upgraded. A running binary reads the
//! version again every [`DEFAULT_SCHEMA_CHECK_INTERVAL`] (10 s; see
//! [`PgBackendBuilder::schema_check_interval`]), so it notices a newer
//! binary's migration under it within that time.
//!
//! # TLS
//!
//! This crate enables no TLS implementation in sqlx. To connect over TLS,
//! add `sqlx = { version = "0.9", default-features = false, features =
//! ["tls-rustls"] }` (or `tls-native-tls`) to your own `Cargo.toml`;
//! features unify.
//!
//! # sqlx version
//!
//! Built on sqlx 0.9 (re-exported as [`jobs_postgres::sqlx`](sqlx)): the
//! transactions you pass to `enqueue_tx` and the pool you pass to
//! [`PgBackend::from_pool`] must come from sqlx 0.9. sqlx 0.9 needs Rust
//! 1.94, which is therefore this crate's minimum Rust version.

#![warn(missing_docs, unreachable_pub)]

mod admin;
mod backend;
mod complete;
mod config;
mod error;
mod fetch;
mod flow;
mod insert;
mod leader;
mod listen;
mod maintenance;
mod parents;
mod retry;
mod schedules;
mod schema;
mod tx;
mod workers;

pub use crate::backend::{PgBackend, PgBackendBuilder};
pub use crate::config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_SCHEMA,
    DEFAULT_SCHEMA_CHECK_INTERVAL, validate_schema_name,
};
pub use crate::error::{Error, Result};
pub use crate::schema::SCHEMA_VERSION;
pub use crate::tx::EnqueueTx;

/// The sqlx this crate is built with, so your transactions and pools are
/// the same types.
pub use sqlx;

/// `use jobs_postgres::prelude::*;` brings [`PgBackend`] and the
/// [`EnqueueTx`] trait that gives job builders `enqueue_tx`, on top of
/// everything `jobs_core::prelude` brings (importing both is fine).
pub mod prelude {
    pub use crate::{EnqueueTx, PgBackend};
    pub use jobs_core::prelude::*;
}
