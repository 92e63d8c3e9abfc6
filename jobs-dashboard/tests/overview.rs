//! The overview's counts: exact on every view of a small store; on a store
//! whose full count is slow (a million kept jobs in a real PostgreSQL), the
//! unfinished jobs counted live and the finished ones recounted in the
//! background while the page answers at once.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use jobs_core::{Client, job};
use jobs_dashboard::Dashboard;
use jobs_memory::MemoryBackend;
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::{self, AssertSqlSafe};
use tower::ServiceExt;

mod common;
use common::{database_url, unique_schema};

#[job(name = "overview_record")]
async fn record(label: String) {
    let _ = label;
}

/// `GET path` from a loopback peer: the status and the body.
async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let mut request = Request::get(path).body(Body::empty()).expect("a request");
    let peer: SocketAddr = "127.0.0.1:5000".parse().expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.expect("a response");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("the body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The overview's cell for `state` of `queue`, as a link to those jobs.
fn cell(queue: &str, state: &str, count: u64) -> String {
    format!("/jobs/jobs?queue={queue}&amp;state={state}\">{count}</a>")
}

#[tokio::test]
async fn a_small_store_is_counted_anew_on_every_view() {
    let client = Client::new(MemoryBackend::new());
    let app = axum::Router::new().nest("/jobs", Dashboard::new(client.clone()).router());
    let first = record::enqueue(&client, "a".into()).await.unwrap();
    let second = record::enqueue(&client, "b".into()).await.unwrap();
    assert!(client.cancel(first).await.unwrap());
    let (status, page) = get(&app, "/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&cell("default", "cancelled", 1)), "{page}");
    assert!(page.contains(&cell("default", "available", 1)), "{page}");
    // no action went through the dashboard: the next view counts anew anyway
    assert!(client.cancel(second).await.unwrap());
    let (_, page) = get(&app, "/jobs").await;
    assert!(page.contains(&cell("default", "cancelled", 2)), "{page}");
    assert!(!page.contains("state=available"), "{page}");
    assert!(
        !page.contains("counted"),
        "a current count says nothing of its age: {page}"
    );
}

/// Jobs kept in the large store.
const KEPT: u64 = 1_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_store_answers_at_once_and_counts_finished_jobs_in_the_background() {
    let schema = unique_schema("overview");
    let backend = PgBackend::builder()
        .schema(&schema)
        .max_connections(4)
        .connect(&database_url())
        .await
        .expect("connect to DATABASE_URL");
    backend.migrate().await.expect("migrate");
    // a million completed jobs, as a store keeps them for their retention
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {schema}.jobs (kind, queue, args, state, max_attempts, attempt,
             attempted_at, finished_at)
         SELECT 'overview_record', 'default', '{{\"label\": \"old\"}}', 'completed', 1, 1,
                now() - interval '2 hours', now() - interval '2 hours'
         FROM generate_series(1, {KEPT})"
    )))
    .execute(backend.pool())
    .await
    .expect("store the completed jobs");
    sqlx::query(AssertSqlSafe(format!("VACUUM ANALYZE {schema}.jobs")))
        .execute(backend.pool())
        .await
        .expect("vacuum");
    let client = Client::new(backend.clone());
    let waiting = record::enqueue(&client, "new".into()).await.unwrap();
    let app = axum::Router::new().nest("/jobs", Dashboard::new(client.clone()).router());

    // the first view: the live counts at once, the finished ones pending
    let (status, page) = get(&app, "/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&cell("default", "available", 1)), "{page}");
    assert!(page.contains("being counted in the background"), "{page}");

    // the background count lands; a view shows it
    let deadline = Instant::now() + Duration::from_secs(60);
    let completed = cell("default", "completed", KEPT);
    loop {
        let (_, page) = get(&app, "/jobs").await;
        if page.contains(&completed) {
            break;
        }
        assert!(Instant::now() < deadline, "never counted: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // a change made elsewhere: the unfinished counts follow it at once, the
    // finished ones come from the tally, which says how old it is
    assert!(client.cancel(waiting).await.unwrap());
    let (_, page) = get(&app, "/jobs").await;
    assert!(!page.contains("state=available"), "{page}");
    assert!(page.contains(&completed), "{page}");
    assert!(page.contains("Finished jobs as counted"), "{page}");
    assert!(!page.contains(&cell("default", "cancelled", 1)), "{page}");

    // an action through the dashboard makes the next view count anew
    let (_, job_page) = get(&app, &format!("/jobs/jobs/{waiting}")).await;
    let token = job_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's form token")
        .to_owned();
    let mut retry = Request::post(format!("/jobs/jobs/{waiting}/retry"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={token}")))
        .expect("a request");
    let peer: SocketAddr = "127.0.0.1:5000".parse().expect("an address");
    retry.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(retry).await.expect("a response");
    assert!(
        response.status().is_redirection(),
        "{:?}",
        response.status()
    );
    let (_, page) = get(&app, "/jobs").await;
    assert!(page.contains(&cell("default", "available", 1)), "{page}");
    assert!(page.contains("Finished jobs as counted"), "{page}");

    backend.pool().close().await;
    let admin = jobs_postgres::sqlx::PgPool::connect(&database_url())
        .await
        .expect("connect");
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop the schema");
}
