//! What is particular to PostgreSQL, against a real server: migrations, the
//! claim under concurrency, unique jobs in the database, transactional
//! enqueue. The behaviour every backend shares is the conformance suite's.

#[path = "../common/mod.rs"]
mod common;

mod claim;
mod drain;
mod flow;
mod health;
mod outcomes;
mod parents;
mod tx;
mod unique;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::__private::JobDefinition;
use jobs_core::backend::{
    Backend, InsertMode, JobCompleteManyParams, JobFetchParams, JobIdParams, JobInsertManyParams,
    LeaderElectParams, NewJob, RunningAttempt,
};
use jobs_core::retry::RetryPolicy;
use jobs_core::testing::Outcome;
use jobs_core::{JobBuilder, JobId, JobState};
use jobs_postgres::prelude::*;
use jobs_postgres::sqlx::{self, AssertSqlSafe};
use jobs_postgres::{Error, SCHEMA_VERSION};

use common::{backend_on, drop_schema, fresh_backend, schema_name};

const LEASE: Duration = Duration::from_secs(30);

fn job(kind: &'static str) -> NewJob {
    NewJob {
        kind: Cow::Borrowed(kind),
        queue: Cow::Borrowed("default"),
        args: "{}".to_owned(),
        priority: 0,
        max_attempts: 3,
        version: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

fn request<'a>(kinds: &'a [&'static str], limit: usize) -> JobFetchParams<'a> {
    JobFetchParams {
        queue: "default",
        kinds,
        versions: &[],
        limit,
        worker_id: "test-worker",
        lease: LEASE,
        flow: None,
    }
}

async fn insert(backend: &PgBackend, jobs: Vec<NewJob>) -> Vec<JobId> {
    backend
        .job_insert_many(JobInsertManyParams {
            jobs,
            mode: InsertMode::Wait,
        })
        .await
        .expect("insert")
}

async fn state_of(backend: &PgBackend, id: JobId) -> JobState {
    backend
        .job_get(JobIdParams { id })
        .await
        .unwrap()
        .expect("job exists")
        .state
}

/// Records on `conn` the version after ours in `schema`, as a newer
/// binary's migration would.
async fn mark_schema_newer(conn: &mut sqlx::PgConnection, schema: &str) {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO \"{schema}\".schema_migrations (version, name) VALUES ($1, 'from the future')"
    )))
    .bind(SCHEMA_VERSION + 1)
    .execute(conn)
    .await
    .expect("mark the schema as migrated by a newer binary");
}

/// Whether an enqueue failed on a schema a newer binary migrated.
fn is_schema_too_new(error: &jobs_core::EnqueueError) -> bool {
    matches!(
        error,
        jobs_core::EnqueueError::Backend(source)
            if matches!(
                source.downcast_ref::<Error>(),
                Some(Error::SchemaTooNew { found, supported, .. })
                    if *found == SCHEMA_VERSION + 1 && *supported == SCHEMA_VERSION
            )
    )
}

#[tokio::test]
async fn migrate_is_idempotent_and_refuses_a_newer_schema() {
    let backend = fresh_backend().await;
    backend.migrate().await.expect("second migrate is a no-op");
    backend.check_schema().await.expect("version matches");
    let versions: Vec<i32> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM \"{}\".schema_migrations ORDER BY version",
        backend.schema()
    )))
    .fetch_all(backend.pool())
    .await
    .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());

    let mut conn = backend.pool().acquire().await.unwrap();
    mark_schema_newer(&mut conn, backend.schema()).await;
    drop(conn);
    let older_binary = backend_on(backend.schema()).await;
    let error = older_binary.migrate().await.expect_err("refused");
    assert!(
        matches!(error, Error::SchemaTooNew { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer"), "{error}");
    let error = older_binary
        .job_fetch(request(&["a"], 1))
        .await
        .expect_err("a worker refuses to fetch");
    assert!(
        error
            .to_string()
            .contains("newer than the newest this binary knows"),
        "{error}"
    );
    let error = older_binary
        .leader_elect(LeaderElectParams {
            worker_id: "w",
            ttl: LEASE,
        })
        .await
        .expect_err("and to lead");
    assert!(error.to_string().contains("newer"), "{error}");
    let refused = jobs_core::Worker::builder(older_binary.clone())
        .only(&[])
        .build()
        .expect("the configuration is fine")
        .run_until(std::future::pending::<()>())
        .await
        .expect_err("a worker refuses to start");
    assert!(
        refused
            .to_string()
            .contains("newer than the newest this binary knows"),
        "{refused}"
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn an_unmigrated_schema_is_reported() {
    let backend = backend_on(&schema_name()).await;
    let error = backend
        .job_fetch(request(&["a"], 1))
        .await
        .expect_err("not migrated");
    assert!(error.to_string().contains("migrate()"), "{error}");
    let error = backend.check_schema().await.expect_err("not migrated");
    assert!(
        matches!(error, Error::NotMigrated { found: 0, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_schema_names_are_refused() {
    for name in ["Jobs", "1x", "a;drop table x", ""] {
        let error = PgBackend::builder()
            .schema(name)
            .connect(&common::database_url())
            .await
            .expect_err("invalid");
        assert!(matches!(error, Error::InvalidSchemaName(_)), "{error:?}");
    }
}

#[tokio::test]
async fn backend_is_a_cheap_shared_handle() {
    fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    assert_traits::<PgBackend>();
    let backend = fresh_backend().await;
    let shared: Arc<dyn Backend> = Arc::new(backend.clone());
    let id = shared
        .job_insert_many(JobInsertManyParams {
            jobs: vec![job("a")],
            mode: InsertMode::Try,
        })
        .await
        .unwrap()[0];
    assert_eq!(state_of(&backend, id).await, JobState::Available);
    assert!(format!("{backend:?}").contains(backend.schema()));
    drop_schema(&backend).await;
}

/// A running binary notices, within its schema check interval, that a
/// newer binary migrated the schema under it: the check, fetches and
/// enqueues fail with `SchemaTooNew` (#10).
#[tokio::test]
async fn a_newer_migration_under_a_running_binary_is_refused_within_the_check_interval() {
    let interval = Duration::from_millis(300);
    let backend = PgBackend::builder()
        .schema(schema_name())
        .max_connections(4)
        .schema_check_interval(interval)
        .connect(&common::database_url())
        .await
        .expect("connect to DATABASE_URL");
    backend.migrate().await.unwrap();
    backend.check_schema().await.expect("at our version");
    insert(&backend, vec![job("a")]).await;
    assert_eq!(
        backend
            .job_fetch(request(&["a"], 1))
            .await
            .unwrap()
            .jobs
            .len(),
        1
    );

    let mut conn = backend.pool().acquire().await.unwrap();
    mark_schema_newer(&mut conn, backend.schema()).await;
    drop(conn);
    tokio::time::sleep(interval + Duration::from_millis(100)).await;

    let error = backend.check_schema().await.expect_err("refused");
    assert!(
        matches!(error, Error::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{error:?}"
    );
    let error = backend
        .job_fetch(request(&["a"], 1))
        .await
        .expect_err("a fetch is refused");
    assert!(
        matches!(
            error.downcast_ref::<Error>(),
            Some(Error::SchemaTooNew { .. })
        ),
        "{error:?}"
    );
    let error = backend
        .job_insert_many(JobInsertManyParams {
            jobs: vec![job("a")],
            mode: InsertMode::Wait,
        })
        .await
        .expect_err("an enqueue is refused");
    assert!(is_schema_too_new(&error), "{error:?}");
    let error = jobs_core::Client::new(backend.clone())
        .enqueue(JobBuilder::new(&tx::UNIQUE, Ok("{\"user\":9}".into())))
        .await
        .expect_err("so is the client's");
    assert!(is_schema_too_new(&error), "{error:?}");
    drop_schema(&backend).await;
}

/// Closing the pool of a backend whose notification listener runs (any
/// worker starts one) returns: the listener gives its connection back
/// instead of keeping `pool.close()` waiting for it (it waited forever
/// under sqlx 0.9, whose close waits for every connection).
#[tokio::test]
async fn closing_the_pool_ends_the_listener() {
    let backend = fresh_backend().await;
    let admin = backend_on(backend.schema()).await;
    let _wakeup = backend.job_wakeup("default");
    // let the listener take its connection
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while backend.pool().size() == backend.pool().num_idle() as u32 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener took no connection"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), backend.pool().close())
        .await
        .expect("the pool closes while the backend and its listener live");
    assert_eq!(backend.pool().size(), 0);
    drop_schema(&admin).await;
}
