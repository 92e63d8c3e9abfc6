//! Enqueueing inside the caller's transaction.

use std::future::Future;
use std::sync::LazyLock;

use jobs_core::{DEFAULT_MAX_PAYLOAD, EnqueueError, JobBuilder, JobId};
use sqlx::{Acquire, Postgres};

use crate::Error;
use crate::config::DEFAULT_SCHEMA;
use crate::insert::{InsertSql, insert_many};
use crate::listen::channel;
use crate::schema;

static DEFAULT_INSERT: LazyLock<InsertSql> =
    LazyLock::new(|| InsertSql::new(DEFAULT_SCHEMA, &channel(DEFAULT_SCHEMA)));

/// Adds `enqueue_tx` to job builders: the job is stored inside your
/// transaction, so it exists if and only if the transaction commits (and
/// workers are woken at commit).
///
/// ```no_run
/// use jobs_core::job;
/// use jobs_postgres::prelude::*;
///
/// #[job]
/// async fn send_welcome_email(user_id: i64, template: String) {}
///
/// # async fn demo(pool: sqlx::PgPool) -> anyhow::Result<()> {
/// let mut tx = pool.begin().await?;
/// let user_id: i64 = sqlx::query_scalar("INSERT INTO users (name) VALUES ('ada') RETURNING id")
///     .fetch_one(&mut *tx)
///     .await?;
/// send_welcome_email::with(user_id, "welcome".into()).enqueue_tx(&mut tx).await?;
/// tx.commit().await?; // the user and the job exist together, or neither
/// # Ok(()) }
/// ```
///
/// `tx` is usually `&mut tx` for a `sqlx::Transaction<'_, Postgres>`; any
/// `sqlx::Acquire` works (`&mut *tx`, a `&mut PgConnection`), though on a
/// plain connection the job is committed at once.
///
/// `enqueue_tx` uses the default schema `"jobs"`; for a backend with
/// another schema use [`PgBackend::enqueue_tx`](crate::PgBackend::enqueue_tx).
///
/// It checks what [`Client::enqueue`](jobs_core::Client::enqueue) checks,
/// and stores nothing when a check fails: arguments over
/// [`DEFAULT_MAX_PAYLOAD`] fail with [`EnqueueError::PayloadTooLarge`], and
/// a schema migrated by a newer binary with
/// [`Error::SchemaTooNew`](crate::Error::SchemaTooNew) inside
/// [`EnqueueError::Backend`]. Having no backend to remember the answer in,
/// it reads the schema's version on `tx` each time: one short statement
/// before the insert. [`PgBackend::enqueue_tx`](crate::PgBackend::enqueue_tx)
/// reads it as seldom as the backend's other operations do.
pub trait EnqueueTx: Sized {
    /// Stores the job inside `tx` (schema `"jobs"`).
    fn enqueue_tx<'c, A>(self, tx: A) -> impl Future<Output = Result<JobId, EnqueueError>> + Send
    where
        A: Acquire<'c, Database = Postgres> + Send + 'c;
}

impl EnqueueTx for JobBuilder {
    async fn enqueue_tx<'c, A>(self, tx: A) -> Result<JobId, EnqueueError>
    where
        A: Acquire<'c, Database = Postgres> + Send + 'c,
    {
        let row = self.into_new_job(DEFAULT_MAX_PAYLOAD)?;
        let mut conn = tx
            .acquire()
            .await
            .map_err(Error::db(format!("store job `{}`", row.kind)))?;
        schema::check(&mut conn, DEFAULT_SCHEMA).await?;
        let ids = insert_many(&mut conn, &DEFAULT_INSERT, std::slice::from_ref(&row)).await?;
        ids.into_iter().next().ok_or_else(|| {
            EnqueueError::Backend("the database stored the job but returned no id".into())
        })
    }
}
