//! `Client::health` on PostgreSQL when the store cannot be used: a schema
//! never migrated, a server that does not answer.

use std::time::Duration;

use jobs_core::{Client, HealthStatus};
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::postgres::PgPoolOptions;

use crate::common::{backend_on, drop_schema, fresh_backend, schema_name};

#[tokio::test]
async fn a_schema_never_migrated_is_unhealthy() {
    let schema = schema_name();
    let backend = backend_on(&schema).await;
    let health = Client::new(backend.clone()).health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Unhealthy, "{health:?}");
    assert_eq!(health.reasons.len(), 1, "{health:?}");
    assert!(
        health.reasons[0].starts_with("the backend cannot be used: ")
            && health.reasons[0].contains(&format!("schema `{schema}` is at version 0")),
        "{health:?}"
    );
    // once migrated, the same backend is healthy
    backend.migrate().await.unwrap();
    let health = Client::new(backend.clone()).health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_unhealthy() {
    // a loopback port nothing listens on: bound, then released
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/jobs"))
        .unwrap();
    let backend = PgBackend::builder().build(pool).unwrap();
    let started = std::time::Instant::now();
    let health = Client::new(backend).health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Unhealthy, "{health:?}");
    assert_eq!(health.reasons.len(), 1, "{health:?}");
    assert!(
        health.reasons[0].starts_with("the backend cannot be used: postgres: could not "),
        "{health:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answers within the pool's timeout"
    );
}

#[tokio::test]
async fn live_workers_are_rows_of_the_workers_table() {
    let backend = fresh_backend().await;
    let client = Client::new(backend.clone());
    let worker = jobs_core::Worker::builder(backend.clone())
        .queue("pg_health", 2)
        .only(&[])
        .build()
        .unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while client.workers().await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored: (String, serde_json::Value) =
        jobs_postgres::sqlx::query_as(jobs_postgres::sqlx::AssertSqlSafe(format!(
            "SELECT id, queues FROM \"{}\".workers",
            backend.schema()
        )))
        .fetch_one(backend.pool())
        .await
        .unwrap();
    assert_eq!(stored.0, id);
    assert_eq!(
        stored.1,
        serde_json::json!([{"name": "pg_health", "concurrency": 2}])
    );
    handle.shutdown().await;
    assert!(client.workers().await.unwrap().is_empty());
    drop_schema(&backend).await;
}
