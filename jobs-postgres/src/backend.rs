//! `PgBackend`: the handle, its builder, and the `Backend` implementation
//! that forwards each operation to the module that owns its SQL.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jobs_core::backend::{
    Backend, BatchIdParams, BatchInsertParams, ExpiredJob, FetchedBatch, InsertedBatch,
    JobCompleteManyParams, JobExpiredListParams, JobFetchParams, JobFinishedPerMinuteParams,
    JobHeartbeatParams, JobIdParams, JobInsertManyParams, JobProgressManyParams, JobPruneParams,
    JobRescueManyParams, JobTransition, LeaderElectParams, LeaderResignParams, QueuePauseParams,
    ScheduleAdvanceParams, ScheduleDeclareParams, ScheduleRemoveParams, ScheduleUpsertParams,
    StoredSchedule, WorkerHeartbeatParams, WorkerRemoveParams,
};
use jobs_core::wake::{WakeHub, Wakeup};
use jobs_core::{
    BatchInfo, BoxError, Counts, EnqueueError, FinishedMinute, JobFilter, JobId, JobInfo,
    QueueInfo, WorkerInfo,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::admin::{self, AdminSql};
use crate::complete::{self, CompleteSql, Fence};
use crate::config::{DEFAULT_PING_AFTER_IDLE, PgConfig};
use crate::error::boxed;
use crate::fetch::{self, FetchSql};
use crate::flow::{self, QueueSql};
use crate::insert::{self, InsertSql};
use crate::leader::{self, LeaderSql};
use crate::listen::{self, Listener};
use crate::maintenance::{self, MaintenanceSql};
use crate::parents;
use crate::retry;
use crate::schedules::{self, ScheduleSql};
use crate::schema::{self, SchemaCheck};
use crate::workers::{self, WorkerSql};
use crate::{Error, Result};

/// The PostgreSQL backend: durable, transactional, shared by any number of
/// worker processes on any number of machines.
///
/// Cheap to clone (a shared handle around a connection pool); `Send +
/// Sync`. See the [crate docs](crate) for the set-up.
#[derive(Clone)]
pub struct PgBackend {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    config: PgConfig,
    channel: String,
    sql: Statements,
    hub: WakeHub,
    listener: Mutex<Option<Listener>>,
    schema_check: SchemaCheck,
}

/// Every statement, rendered once for the configured schema.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) insert: InsertSql,
    fetch: FetchSql,
    complete: CompleteSql,
    leader: LeaderSql,
    maintenance: MaintenanceSql,
    schedules: ScheduleSql,
    admin: AdminSql,
    queues: QueueSql,
    workers: WorkerSql,
}

impl Statements {
    fn new(schema: &str, channel: &str) -> Self {
        Self {
            insert: InsertSql::new(schema, channel),
            fetch: FetchSql::new(schema),
            complete: CompleteSql::new(schema, channel),
            leader: LeaderSql::new(schema),
            maintenance: MaintenanceSql::new(schema),
            schedules: ScheduleSql::new(schema),
            admin: AdminSql::new(schema),
            queues: QueueSql::new(schema),
            workers: WorkerSql::new(schema),
        }
    }
}

/// Configures a [`PgBackend`]: schema and pool. Made by
/// [`PgBackend::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use jobs_postgres::PgBackend;
///
/// # async fn demo() -> Result<(), jobs_postgres::Error> {
/// let backend = PgBackend::builder()
///     .schema("billing_jobs")
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(5))
///     .connect("postgres://localhost/app")
///     .await?;
/// backend.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "finish with `.connect(url)` or `.build(pool)`"]
pub struct PgBackendBuilder {
    config: PgConfig,
}

impl PgBackendBuilder {
    /// The schema the tables live in (default `"jobs"`): 1 to 48 of
    /// `a-z`, `0-9`, `_`, not starting with a digit. Checked when built.
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.config.schema = name.into();
        self
    }

    /// The pool size [`connect`](Self::connect) uses (default 10). One
    /// connection is held for `LISTEN` while a worker runs.
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.config.max_connections = connections;
        self
    }

    /// How long [`connect`](Self::connect)'s pool waits for a free
    /// connection before an operation fails (default 10 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.config.acquire_timeout = timeout;
        self
    }

    /// How long a schema found at this binary's version is trusted before
    /// its version is read again (default 10 s): a newer binary's
    /// migration is noticed within this time, after which fetches and
    /// inserts fail with [`Error::SchemaTooNew`]. Zero reads it before
    /// every operation that checks it.
    pub fn schema_check_interval(mut self, interval: Duration) -> Self {
        self.config.schema_check_interval = interval;
        self
    }

    /// Connects a new pool to `url` (`postgres://user:pass@host/db`).
    pub async fn connect(self, url: impl AsRef<str>) -> Result<PgBackend> {
        self.config.validate()?;
        let options: PgConnectOptions = url
            .as_ref()
            .parse()
            .map_err(Error::db("parse the database URL"))?;
        let options = options.application_name("jobs-postgres");
        let pool = PgPoolOptions::new()
            .max_connections(self.config.max_connections)
            .acquire_timeout(self.config.acquire_timeout)
            // a ping per checkout would double the round trips of the hot
            // path; only connections idle for a while are checked, and a
            // connection that fails is dropped by the pool
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > DEFAULT_PING_AFTER_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(Error::db("connect to the database"))?;
        Ok(PgBackend::new(pool, self.config))
    }

    /// Uses an existing pool (its own settings apply; `max_connections`
    /// and `acquire_timeout` here are ignored).
    pub fn build(self, pool: PgPool) -> Result<PgBackend> {
        self.config.validate()?;
        Ok(PgBackend::new(pool, self.config))
    }
}

impl PgBackend {
    /// Connects to `url` with the default settings (schema `"jobs"`).
    pub async fn connect(url: impl AsRef<str>) -> Result<Self> {
        Self::builder().connect(url).await
    }

    /// Uses an existing pool, with the default settings (schema `"jobs"`).
    pub fn from_pool(pool: PgPool) -> Self {
        Self::new(pool, PgConfig::default())
    }

    /// Starts configuring a backend.
    pub fn builder() -> PgBackendBuilder {
        PgBackendBuilder::default()
    }

    fn new(pool: PgPool, config: PgConfig) -> Self {
        let channel = listen::channel(&config.schema);
        let sql = Statements::new(&config.schema, &channel);
        let schema_check = SchemaCheck::new(config.schema_check_interval);
        Self {
            inner: Arc::new(Inner {
                pool,
                config,
                channel,
                sql,
                hub: WakeHub::new(),
                listener: Mutex::new(None),
                schema_check,
            }),
        }
    }

    /// Creates or upgrades the schema and its tables to the version this
    /// binary knows. Idempotent, and safe to run from many processes at
    /// once. Fails with [`Error::SchemaTooNew`] if a newer binary already
    /// migrated the schema.
    pub async fn migrate(&self) -> Result<()> {
        schema::migrate(&self.inner.pool, &self.inner.config.schema).await?;
        self.inner.schema_check.passed();
        Ok(())
    }

    /// Checks that the schema is at the version this binary knows: fails
    /// with [`Error::SchemaTooNew`] or [`Error::NotMigrated`] otherwise.
    /// Fetches, inserts, elections and maintenance check this first; a
    /// version found right is trusted for the
    /// [`schema_check_interval`](PgBackendBuilder::schema_check_interval)
    /// (default [`DEFAULT_SCHEMA_CHECK_INTERVAL`](crate::DEFAULT_SCHEMA_CHECK_INTERVAL)),
    /// then read again.
    pub async fn check_schema(&self) -> Result<()> {
        if self.inner.schema_check.is_fresh() {
            return Ok(());
        }
        let mut conn = self.inner.pool.acquire().await.map_err(Error::db(format!(
            "check the version of schema `{}`",
            self.inner.config.schema
        )))?;
        self.check_schema_on(&mut conn).await
    }

    /// [`check_schema`](Self::check_schema) on a connection the caller
    /// holds, so that `enqueue_tx` does not wait for a second connection
    /// of a pool its caller may have exhausted.
    async fn check_schema_on(&self, conn: &mut sqlx::PgConnection) -> Result<()> {
        self.inner
            .schema_check
            .ensure(conn, &self.inner.config.schema)
            .await
    }

    /// The connection pool, for your own queries and transactions.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The schema the tables live in.
    pub fn schema(&self) -> &str {
        &self.inner.config.schema
    }

    /// Stores jobs inside the caller's transaction: they exist if and only
    /// if it commits, and workers are notified at commit. The explicit form
    /// of [`EnqueueTx`](crate::EnqueueTx), for a backend with a configured
    /// schema.
    ///
    /// Checked as [`Client::enqueue`](jobs_core::Client::enqueue) checks:
    /// arguments over [`DEFAULT_MAX_PAYLOAD`](jobs_core::DEFAULT_MAX_PAYLOAD)
    /// fail with [`EnqueueError::PayloadTooLarge`], and a schema migrated
    /// by a newer binary with [`Error::SchemaTooNew`] (inside
    /// [`EnqueueError::Backend`]); nothing is stored then.
    pub async fn enqueue_tx(
        &self,
        tx: &mut sqlx::PgConnection,
        job: jobs_core::JobBuilder,
    ) -> std::result::Result<JobId, EnqueueError> {
        let row = job.into_new_job(jobs_core::DEFAULT_MAX_PAYLOAD)?;
        self.check_schema_on(tx).await?;
        let ids =
            insert::insert_many(tx, &self.inner.sql.insert, std::slice::from_ref(&row)).await?;
        ids.into_iter().next().ok_or_else(|| {
            EnqueueError::Backend("the database stored the job but returned no id".into())
        })
    }

    async fn ensure_schema(&self) -> std::result::Result<(), BoxError> {
        self.check_schema().await.map_err(boxed)
    }

    fn start_listener(&self) {
        let mut listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if listener.is_none() {
            *listener = listen::spawn(
                self.inner.pool.clone(),
                self.inner.channel.clone(),
                self.inner.hub.clone(),
            );
        }
    }
}

impl fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBackend")
            .field("schema", &self.inner.config.schema)
            .field("pool_size", &self.inner.pool.size())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Backend for PgBackend {
    async fn job_insert_many(
        &self,
        params: JobInsertManyParams, // PostgreSQL has no capacity to wait for
    ) -> std::result::Result<Vec<JobId>, EnqueueError> {
        if params.jobs.is_empty() {
            return Ok(Vec::new());
        }
        let jobs = &params.jobs;
        let ids = retry::run(
            &self.inner.pool,
            || "store jobs".to_owned(),
            |mut conn| {
                Box::pin(async move {
                    self.check_schema_on(&mut conn).await?;
                    insert::insert_many_atomically(&mut conn, &self.inner.sql.insert, jobs).await
                })
            },
        )
        .await?;
        Ok(ids)
    }

    async fn job_fetch(
        &self,
        params: JobFetchParams<'_>,
    ) -> std::result::Result<FetchedBatch, BoxError> {
        let context = || format!("claim jobs from queue `{}`", params.queue);
        retry::run(&self.inner.pool, context, |mut conn| {
            Box::pin(async move {
                self.check_schema_on(&mut conn).await?;
                fetch::fetch(&mut conn, &self.inner.sql.fetch, params).await
            })
        })
        .await
        .map_err(boxed)
    }

    async fn job_complete_many(
        &self,
        params: JobCompleteManyParams,
    ) -> std::result::Result<(), BoxError> {
        self.transition_many(&params.transitions, Fence::Running)
            .await?;
        Ok(())
    }

    /// Two: each write ends waiting for its commit to be flushed to disk
    /// (a sixth of a completion's time in a drain), and a second batch
    /// keeps the server working meanwhile (draining at concurrency 16,
    /// 82 k jobs/s with one, 89 k with two). One on a pool of fewer than
    /// four connections, which the claims and enqueues need as well.
    fn completion_writers(&self) -> usize {
        let connections = self.inner.pool.options().get_max_connections();
        if connections >= 4 { 2 } else { 1 }
    }

    async fn job_heartbeat(
        &self,
        params: JobHeartbeatParams<'_>,
    ) -> std::result::Result<Vec<JobId>, BoxError> {
        let context = || format!("renew the leases of {} running jobs", params.running.len());
        retry::run(&self.inner.pool, context, |mut conn| {
            Box::pin(async move {
                complete::heartbeat(&mut conn, &self.inner.sql.complete, params).await
            })
        })
        .await
        .map_err(boxed)
    }

    async fn job_progress_many(
        &self,
        params: JobProgressManyParams<'_>,
    ) -> std::result::Result<(), BoxError> {
        let context = || {
            format!(
                "record the progress of {} running jobs",
                params.reports.len()
            )
        };
        retry::run(&self.inner.pool, context, |mut conn| {
            Box::pin(async move {
                complete::progress_many(&mut conn, &self.inner.sql.complete, params).await
            })
        })
        .await
        .map_err(boxed)
    }

    async fn job_expired_list(
        &self,
        params: JobExpiredListParams,
    ) -> std::result::Result<Vec<ExpiredJob>, BoxError> {
        self.ensure_schema().await?;
        maintenance::expired(&self.inner.pool, &self.inner.sql.maintenance, params.limit)
            .await
            .map_err(boxed)
    }

    async fn job_rescue_many(
        &self,
        params: JobRescueManyParams,
    ) -> std::result::Result<u64, BoxError> {
        self.transition_many(&params.transitions, Fence::LeaseExpired)
            .await
    }

    async fn job_prune(&self, params: JobPruneParams) -> std::result::Result<u64, BoxError> {
        maintenance::prune(&self.inner.pool, &self.inner.sql.maintenance, params)
            .await
            .map_err(boxed)
    }

    fn job_wakeup(&self, queue: &str) -> Wakeup {
        self.start_listener();
        self.inner.hub.subscribe(queue)
    }

    async fn job_get(&self, params: JobIdParams) -> std::result::Result<Option<JobInfo>, BoxError> {
        admin::get(&self.inner.pool, &self.inner.sql.admin, params.id)
            .await
            .map_err(boxed)
    }

    async fn job_list(&self, filter: &JobFilter) -> std::result::Result<Vec<JobInfo>, BoxError> {
        admin::list(&self.inner.pool, &self.inner.sql.admin, filter)
            .await
            .map_err(boxed)
    }

    async fn job_counts(&self) -> std::result::Result<Counts, BoxError> {
        admin::counts(&self.inner.pool, &self.inner.sql.admin)
            .await
            .map_err(boxed)
    }

    async fn job_unfinished_counts(&self) -> std::result::Result<Counts, BoxError> {
        admin::unfinished_counts(&self.inner.pool, &self.inner.sql.admin)
            .await
            .map_err(boxed)
    }

    async fn job_retry(&self, params: JobIdParams) -> std::result::Result<bool, BoxError> {
        admin::retry(
            &self.inner.pool,
            &self.inner.sql.admin,
            &self.inner.channel,
            params.id,
        )
        .await
        .map_err(boxed)
    }

    async fn job_cancel(&self, params: JobIdParams) -> std::result::Result<bool, BoxError> {
        admin::cancel(
            &self.inner.pool,
            &self.inner.sql.admin,
            &self.inner.channel,
            params.id,
        )
        .await
        .map_err(boxed)
    }

    async fn job_delete(&self, params: JobIdParams) -> std::result::Result<bool, BoxError> {
        admin::delete(
            &self.inner.pool,
            &self.inner.sql.admin,
            &self.inner.channel,
            params.id,
        )
        .await
        .map_err(boxed)
    }

    async fn batch_insert(
        &self,
        params: BatchInsertParams, // PostgreSQL has no capacity to wait for
    ) -> std::result::Result<InsertedBatch, EnqueueError> {
        let params = &params;
        let inserted = retry::run(
            &self.inner.pool,
            || "store a batch".to_owned(),
            |mut conn| {
                Box::pin(async move {
                    self.check_schema_on(&mut conn).await?;
                    let context = || "store a batch in one transaction".to_owned();
                    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
                    let inserted =
                        parents::insert_batch(&mut tx, &self.inner.sql.insert, params.clone())
                            .await?;
                    tx.commit().await.map_err(Error::db(context()))?;
                    Ok(inserted)
                })
            },
        )
        .await?;
        Ok(inserted)
    }

    async fn job_finished_per_minute(
        &self,
        params: JobFinishedPerMinuteParams,
    ) -> std::result::Result<Vec<FinishedMinute>, BoxError> {
        admin::finished_per_minute(&self.inner.pool, &self.inner.sql.admin, params.since)
            .await
            .map_err(boxed)
    }

    async fn batch_get(
        &self,
        params: BatchIdParams,
    ) -> std::result::Result<Option<BatchInfo>, BoxError> {
        parents::batch(&self.inner.pool, &self.inner.sql.insert.parents, params.id)
            .await
            .map_err(boxed)
    }

    async fn schedule_upsert(
        &self,
        params: ScheduleUpsertParams<'_>,
    ) -> std::result::Result<StoredSchedule, BoxError> {
        self.ensure_schema().await?;
        schedules::upsert(&self.inner.pool, &self.inner.sql.schedules, params)
            .await
            .map_err(boxed)
    }

    async fn schedule_declare(
        &self,
        params: ScheduleDeclareParams<'_>,
    ) -> std::result::Result<(), BoxError> {
        schedules::declare(&self.inner.pool, &self.inner.sql.schedules, params)
            .await
            .map_err(boxed)
    }

    async fn schedule_list(&self) -> std::result::Result<Vec<StoredSchedule>, BoxError> {
        schedules::list(&self.inner.pool, &self.inner.sql.schedules)
            .await
            .map_err(boxed)
    }

    async fn schedule_advance(
        &self,
        params: ScheduleAdvanceParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        schedules::advance(
            &self.inner.pool,
            &self.inner.sql.schedules,
            &self.inner.sql.insert,
            params,
        )
        .await
        .map_err(boxed)
    }

    async fn queue_pause(
        &self,
        params: QueuePauseParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        flow::pause(&self.inner.pool, &self.inner.sql.queues, params.queue)
            .await
            .map_err(boxed)
    }

    async fn queue_resume(
        &self,
        params: QueuePauseParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        flow::resume(
            &self.inner.pool,
            &self.inner.sql.queues,
            &self.inner.channel,
            params.queue,
        )
        .await
        .map_err(boxed)
    }

    async fn queue_list(&self) -> std::result::Result<Vec<QueueInfo>, BoxError> {
        flow::list(&self.inner.pool, &self.inner.sql.queues)
            .await
            .map_err(boxed)
    }

    async fn queue_paused_list(&self) -> std::result::Result<Vec<String>, BoxError> {
        flow::paused(&self.inner.pool, &self.inner.sql.queues)
            .await
            .map_err(boxed)
    }

    async fn schedule_remove(
        &self,
        params: ScheduleRemoveParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        schedules::remove(&self.inner.pool, &self.inner.sql.schedules, params.id)
            .await
            .map_err(boxed)
    }

    async fn leader_elect(
        &self,
        params: LeaderElectParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        self.ensure_schema().await?;
        leader::elect(
            &self.inner.pool,
            &self.inner.sql.leader,
            params.worker_id,
            params.ttl,
        )
        .await
        .map_err(boxed)
    }

    async fn leader_resign(
        &self,
        params: LeaderResignParams<'_>,
    ) -> std::result::Result<(), BoxError> {
        leader::resign(&self.inner.pool, &self.inner.sql.leader, params.worker_id)
            .await
            .map_err(boxed)
    }

    async fn check(&self) -> std::result::Result<(), BoxError> {
        self.ensure_schema().await
    }

    async fn worker_heartbeat(
        &self,
        params: WorkerHeartbeatParams<'_>,
    ) -> std::result::Result<(), BoxError> {
        workers::heartbeat(&self.inner.pool, &self.inner.sql.workers, params)
            .await
            .map_err(boxed)
    }

    async fn worker_list(&self) -> std::result::Result<Vec<WorkerInfo>, BoxError> {
        workers::list(&self.inner.pool, &self.inner.sql.workers)
            .await
            .map_err(boxed)
    }

    async fn worker_remove(
        &self,
        params: WorkerRemoveParams<'_>,
    ) -> std::result::Result<bool, BoxError> {
        workers::remove(&self.inner.pool, &self.inner.sql.workers, params.id)
            .await
            .map_err(boxed)
    }

    async fn worker_prune(&self) -> std::result::Result<u64, BoxError> {
        workers::prune(&self.inner.pool, &self.inner.sql.workers)
            .await
            .map_err(boxed)
    }
}

impl PgBackend {
    /// Stores transitions under `fence`, and wakes the queues that got a
    /// job back to wait. Returns how many applied.
    async fn transition_many(
        &self,
        transitions: &[JobTransition],
        fence: Fence,
    ) -> std::result::Result<u64, BoxError> {
        let context = || match transitions {
            [one] => format!("record the outcome of job {}", one.run.id),
            _ => format!("record the outcomes of {} jobs", transitions.len()),
        };
        let (applied, ready) = retry::run(&self.inner.pool, context, |mut conn| {
            Box::pin(async move {
                complete::transition_many(&mut conn, &self.inner.sql.complete, transitions, fence)
                    .await
            })
        })
        .await
        .map_err(boxed)?;
        if !ready.is_empty() && fence == Fence::LeaseExpired {
            // other processes' idle workers learn of rescued jobs too
            let queues = ready
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(",");
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.inner.channel)
                .bind(&queues)
                .execute(&self.inner.pool)
                .await
                .map_err(Error::db("announce rescued jobs"))
                .map_err(boxed)?;
        }
        for queue in ready {
            self.inner.hub.notify(&queue);
        }
        Ok(applied)
    }
}
