//! `enqueue_tx`: a job stored in the caller's transaction exists if and
//! only if it commits, and wakes workers at commit.

use super::*;
use jobs_core::__private::{MetricKey, MetricLabel, enqueued_metric_key, kind_label};

fn no_op(_: jobs_core::__private::Invocation) -> jobs_core::__private::JobFuture {
    Box::pin(async { Ok(()) })
}

static WELCOME_LABELS: [MetricLabel; 1] = [kind_label("welcome")];
static WELCOME_METRIC: MetricKey = enqueued_metric_key(&WELCOME_LABELS);

static WELCOME: JobDefinition = JobDefinition {
    name: "welcome",
    location: "backend tests",
    queue: "mail",
    priority: 0,
    retry: RetryPolicy::new(3),
    timeout: None,
    unique: false,
    states: &[],
    version: 1,
    upgrade: None,
    concurrency: None,
    rate_limit: None,
    run: no_op,
    enqueued_metric: &WELCOME_METRIC,
};

static UNIQUE_LABELS: [MetricLabel; 1] = [kind_label("unique_welcome")];
static UNIQUE_METRIC: MetricKey = enqueued_metric_key(&UNIQUE_LABELS);

pub(crate) static UNIQUE: JobDefinition = JobDefinition {
    name: "unique_welcome",
    location: "backend tests",
    queue: "default",
    priority: 0,
    retry: RetryPolicy::new(3),
    timeout: None,
    unique: true,
    states: &[],
    version: 1,
    upgrade: None,
    concurrency: None,
    rate_limit: None,
    run: no_op,
    enqueued_metric: &UNIQUE_METRIC,
};

#[tokio::test]
async fn enqueue_tx_exists_only_if_the_transaction_commits() {
    let backend = fresh_backend().await;
    let mut wakeup = backend.job_wakeup("mail");
    // let the listener connect before anything is sent
    tokio::time::sleep(Duration::from_millis(300)).await;
    wakeup.mark_seen();

    let mut tx = backend.pool().begin().await.unwrap();
    let rolled_back = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":1}".into())),
        )
        .await
        .unwrap();
    assert!(
        backend
            .job_get(JobIdParams { id: rolled_back })
            .await
            .unwrap()
            .is_none(),
        "invisible before commit"
    );
    tx.rollback().await.unwrap();
    assert!(
        backend
            .job_get(JobIdParams { id: rolled_back })
            .await
            .unwrap()
            .is_none(),
        "gone after rollback"
    );
    assert!(
        !wakeup.wait(Duration::from_millis(300)).await,
        "no wake-up for a rolled-back job"
    );

    let mut tx = backend.pool().begin().await.unwrap();
    let committed = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":2}".into())),
        )
        .await
        .unwrap();
    assert!(
        !wakeup.wait(Duration::from_millis(200)).await,
        "no wake-up before commit"
    );
    tx.commit().await.unwrap();
    assert!(wakeup.wait(Duration::from_secs(5)).await, "woken at commit");
    let info = backend
        .job_get(JobIdParams { id: committed })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.state, JobState::Available);
    assert_eq!(info.queue, "mail");
    assert_eq!(info.args, serde_json::json!({"user": 2}));
    drop_schema(&backend).await;
}

/// `EnqueueTx` (the prelude's `enqueue_tx`) works on the default schema.
#[tokio::test]
async fn enqueue_tx_trait_uses_the_default_schema() {
    let pool = sqlx::PgPool::connect(&common::database_url())
        .await
        .unwrap();
    let backend = PgBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let id = JobBuilder::new(&WELCOME, Ok("{\"user\":3}".into()))
        .enqueue_tx(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let info = backend
        .job_get(JobIdParams { id })
        .await
        .unwrap()
        .expect("committed");
    assert_eq!(info.kind, "welcome");
    assert!(backend.job_delete(JobIdParams { id }).await.unwrap());

    let mut tx = pool.begin().await.unwrap();
    let id = JobBuilder::new(&WELCOME, Ok("{\"user\":4}".into()))
        .enqueue_tx(&mut tx)
        .await
        .unwrap();
    drop(tx); // rolls back
    assert!(backend.job_get(JobIdParams { id }).await.unwrap().is_none());
}

#[jobs_core::job(name = "tx_greet", queue = "tx")]
async fn greet(user_id: i64) -> Result<(), String> {
    if user_id < 0 {
        return Err("no such user".into());
    }
    Ok(())
}

/// A job committed with its transaction runs on a worker; one rolled back
/// never exists. Also takes `&mut *tx`, the connection inside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_job_runs_and_a_rolled_back_one_never_exists() {
    let pool = sqlx::PgPool::connect(&common::database_url())
        .await
        .unwrap();
    let backend = PgBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let client = jobs_core::Client::new(backend.clone());
    let worker = jobs_core::Worker::builder(backend.clone())
        .queue("tx", 2)
        .only(&[greet::NAME])
        .poll_interval(Duration::from_secs(30)) // only the commit's notification wakes it
        .build()
        .unwrap()
        .start();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut tx = pool.begin().await.unwrap();
    let dropped = greet::with(-1).enqueue_tx(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let committed = greet::with(7).enqueue_tx(&mut tx).await.unwrap();
    tx.commit().await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = client.job(committed).await.unwrap().expect("committed");
        if info.state == JobState::Completed {
            assert_eq!(info.attempt, 1);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not run: {info:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await;
    assert!(client.job(dropped).await.unwrap().is_none());
    assert!(client.delete(committed).await.unwrap());
}

/// A user's own sqlx 0.9 (`::sqlx`, the dev-dependency that asks for 0.9,
/// not our re-export): its pool builds the backend and its transaction
/// goes to `enqueue_tx`, both the method and the prelude's trait (#14).
#[tokio::test]
async fn enqueue_tx_takes_a_transaction_of_the_user_s_own_sqlx() {
    let pool: ::sqlx::PgPool = ::sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&common::database_url())
        .await
        .unwrap();
    let backend = PgBackend::builder()
        .schema(schema_name())
        .build(pool.clone())
        .unwrap();
    backend.migrate().await.unwrap();
    PgBackend::from_pool(pool.clone()).migrate().await.unwrap();

    let mut tx: ::sqlx::Transaction<'_, ::sqlx::Postgres> = pool.begin().await.unwrap();
    let ours = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":5}".into())),
        )
        .await
        .unwrap();
    let default_schema = JobBuilder::new(&WELCOME, Ok("{\"user\":6}".into()))
        .enqueue_tx(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let info = backend
        .job_get(JobIdParams { id: ours })
        .await
        .unwrap()
        .expect("committed");
    assert_eq!(info.args, serde_json::json!({"user": 5}));
    let on_default = PgBackend::from_pool(pool);
    let info = on_default
        .job_get(JobIdParams { id: default_schema })
        .await
        .unwrap()
        .expect("committed");
    assert_eq!(info.args, serde_json::json!({"user": 6}));
    assert!(
        on_default
            .job_delete(JobIdParams { id: default_schema })
            .await
            .unwrap()
    );
    drop_schema(&backend).await;
}

/// The payload limit: `enqueue_tx`, both forms, refuses arguments over
/// 1 MiB with the variant `Client::enqueue` returns, and stores nothing
/// (#8).
#[tokio::test]
async fn enqueue_tx_refuses_an_over_large_payload_as_the_client_does() {
    let backend = fresh_backend().await;
    let args = format!("\"{}\"", "x".repeat(jobs_core::DEFAULT_MAX_PAYLOAD));
    let big = || JobBuilder::new(&WELCOME, Ok(args.clone()));
    let too_large = |error: jobs_core::EnqueueError| match error {
        jobs_core::EnqueueError::PayloadTooLarge { kind, size, limit } => (kind, size, limit),
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    };
    let by_client = too_large(
        jobs_core::Client::new(backend.clone())
            .enqueue(big())
            .await
            .expect_err("the client refuses it"),
    );
    assert_eq!(
        by_client,
        (
            "welcome".to_owned(),
            args.len(),
            jobs_core::DEFAULT_MAX_PAYLOAD
        )
    );

    let mut tx = backend.pool().begin().await.unwrap();
    let by_method = backend.enqueue_tx(&mut tx, big()).await;
    assert_eq!(too_large(by_method.expect_err("refused")), by_client);
    let by_trait = big().enqueue_tx(&mut tx).await;
    assert_eq!(too_large(by_trait.expect_err("refused")), by_client);
    tx.commit().await.expect("the transaction is still usable");
    assert_eq!(stored_jobs(&backend).await, 0);
    drop_schema(&backend).await;
}

/// The schema check: `enqueue_tx`, both forms, refuses a schema a newer
/// binary migrated, as `Client::enqueue` does, and stores nothing (#8).
#[tokio::test]
async fn enqueue_tx_refuses_a_schema_newer_than_this_binary() {
    let backend = fresh_backend().await;
    let mut conn = backend.pool().acquire().await.unwrap();
    mark_schema_newer(&mut conn, backend.schema()).await;
    drop(conn);
    // a binary that has not looked at the schema yet
    let older = backend_on(backend.schema()).await;
    let mut tx = older.pool().begin().await.unwrap();
    let by_method = older
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":8}".into())),
        )
        .await
        .expect_err("refused");
    assert!(is_schema_too_new(&by_method), "{by_method:?}");
    tx.commit().await.expect("the transaction is still usable");
    let by_client = jobs_core::Client::new(older.clone())
        .enqueue(JobBuilder::new(&WELCOME, Ok("{\"user\":8}".into())))
        .await
        .expect_err("the client refuses it too");
    assert!(is_schema_too_new(&by_client), "{by_client:?}");
    assert_eq!(stored_jobs(&backend).await, 0);

    // the prelude's trait works on the default schema, shared with other
    // tests: it is newer only inside this transaction
    let pool = backend.pool().clone();
    PgBackend::from_pool(pool.clone()).migrate().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    mark_schema_newer(&mut tx, "jobs").await;
    let by_trait = JobBuilder::new(&WELCOME, Ok("{\"user\":8}".into()))
        .enqueue_tx(&mut tx)
        .await
        .expect_err("refused");
    assert!(is_schema_too_new(&by_trait), "{by_trait:?}");
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs.jobs WHERE kind = 'welcome' AND args = '{\"user\":8}'",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("the transaction is still usable");
    assert_eq!(stored, 0);
    tx.rollback().await.unwrap();
    drop_schema(&backend).await;
}

async fn stored_jobs(backend: &PgBackend) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{}\".jobs",
        backend.schema()
    )))
    .fetch_one(backend.pool())
    .await
    .expect("count the stored jobs")
}

/// A continuation enqueued in the caller's transaction exists with its
/// waits if and only if that transaction commits; on a plain connection it
/// is stored whole at once.
#[tokio::test]
async fn a_continuation_in_a_transaction_waits_and_rolls_back_whole() {
    let backend = fresh_backend().await;
    let parent = insert(&backend, vec![job("parent")]).await[0];
    let mut tx = backend.pool().begin().await.unwrap();
    let child = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":4}".into())).after(parent),
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(
        backend
            .job_get(JobIdParams { id: child })
            .await
            .unwrap()
            .is_none(),
        "rolled back"
    );

    let mut conn = backend.pool().acquire().await.unwrap();
    let child = backend
        .enqueue_tx(
            &mut conn,
            JobBuilder::new(&WELCOME, Ok("{\"user\":5}".into())).after(parent),
        )
        .await
        .unwrap();
    drop(conn);
    assert_eq!(state_of(&backend, child).await, JobState::Awaiting);
    let kinds = ["parent"];
    let claimed = backend.job_fetch(request(&kinds, 1)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 1);
    backend
        .job_complete_many(JobCompleteManyParams {
            transitions: vec![Outcome::Completed.into_transition(RunningAttempt {
                id: parent,
                attempt: 1,
            })],
        })
        .await
        .unwrap();
    assert_eq!(state_of(&backend, child).await, JobState::Available);
    drop_schema(&backend).await;
}
