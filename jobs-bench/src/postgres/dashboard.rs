//! The dashboard over a large store: each page's answer time, through the
//! dashboard's own `Router` in the process (no network between them), over
//! a schema holding a million jobs.
//!
//! The store is written by SQL in one statement, shaped as a busy store is
//! after a day: most jobs completed over the last 24 hours and kept for
//! their retention, one in 200 dead with its error, one in 1,000 cancelled,
//! and the newest 2 % unfinished (waiting, delayed, retrying, running and a
//! few continuations awaiting their parents), over five queues and eight
//! kinds, with batches. Then `VACUUM ANALYZE`, as autovacuum would have.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use jobs_core::Client;
use serde_json::json;
use tower::ServiceExt;

use super::{Pg, Result};
use crate::report::{Report, Target};
use crate::stats::Summary;
use crate::workloads::Sizes;

const SCHEMA: &str = "bench_dashboard";

/// The answer time a page must stay under.
const TARGET_MS: f64 = 100.0;

/// The store: `{n}` jobs, the newest `{unfinished}` of them not finished.
const STORE: &str = "
INSERT INTO {schema}.jobs (kind, queue, args, state, attempt, max_attempts, errors,
    created_at, scheduled_at, attempted_at, finished_at, leased_until, worker_id, batch_id)
SELECT
    (ARRAY['send_welcome_email', 'render_invoice_pdf', 'sync_crm_contact', 'resize_image',
           'charge_card', 'nightly_report', 'purge_sessions', 'notify_webhook'])[1 + i % 8],
    (ARRAY['default', 'default', 'mailer', 'reports', 'critical'])[1 + i % 5],
    jsonb_build_object('user_id', i, 'template', 'welcome'),
    state,
    CASE WHEN state IN ('available', 'scheduled', 'awaiting') THEN 0
         WHEN state = 'dead' THEN 3 ELSE 1 END,
    3,
    CASE WHEN state IN ('dead', 'retryable') THEN jsonb_build_array(jsonb_build_object(
        'attempt', 1, 'message', 'connect to smtp.example.com: connection refused',
        'at', at)) ELSE '[]' END,
    at,
    CASE WHEN state = 'scheduled' THEN now() + interval '1 hour' + (i % 3600) * interval '1 s'
         WHEN state = 'retryable' THEN now() + interval '5 minutes'
         ELSE at END,
    CASE WHEN state IN ('completed', 'dead', 'cancelled', 'running', 'retryable') THEN at END,
    CASE WHEN state IN ('completed', 'dead', 'cancelled') THEN at + interval '20 ms' END,
    CASE WHEN state = 'running' THEN now() + interval '30 s' END,
    CASE WHEN state = 'running' THEN 'bench-worker' END,
    CASE WHEN i <= 1000 THEN 1 + i / 100 END
FROM (
    SELECT i,
        now() - interval '24 hours' * (1 - i::float8 / {n}) AS at,
        CASE
            WHEN i > {n} - {unfinished} THEN
                CASE WHEN i > {n} - 16 THEN 'running'
                     WHEN i % 50 = 1 THEN 'awaiting'
                     WHEN i % 20 = 0 THEN 'scheduled'
                     WHEN i % 97 = 0 THEN 'retryable'
                     ELSE 'available' END
            WHEN i % 200 = 7 THEN 'dead'
            WHEN i % 1000 = 3 THEN 'cancelled'
            ELSE 'completed'
        END AS state
    FROM generate_series(1, {n}) AS i
) store";

/// Each awaiting job waits for the job before it, and the batches of the
/// first thousand jobs exist.
const LINKS: &str = "
INSERT INTO {schema}.job_waits (parent, child, needs_completed)
SELECT id - 1, id, true FROM {schema}.jobs WHERE state = 'awaiting';
UPDATE {schema}.jobs SET parents = ARRAY[id - 1] WHERE state = 'awaiting';
UPDATE {schema}.jobs SET has_children = true
WHERE id IN (SELECT parent FROM {schema}.job_waits);
INSERT INTO {schema}.batches (id, created_at)
OVERRIDING SYSTEM VALUE
SELECT b, now() - interval '24 hours' FROM generate_series(1, 11) AS b;
VACUUM ANALYZE {schema}.jobs";

/// The pages timed, in the order they are requested.
fn pages(dead_job: i64) -> Vec<(&'static str, String)> {
    let mut pages = vec![
        ("overview", "/".to_owned()),
        ("jobs", "/jobs".to_owned()),
        ("jobs, page 100", "/jobs?page=100".to_owned()),
    ];
    for state in [
        "available",
        "scheduled",
        "running",
        "retryable",
        "awaiting",
        "completed",
        "dead",
        "cancelled",
    ] {
        pages.push(("jobs by state", format!("/jobs?state={state}")));
    }
    pages.extend([
        (
            "jobs by queue and state",
            "/jobs?queue=mailer&state=dead".to_owned(),
        ),
        ("jobs by kind", "/jobs?kind=charge_card".to_owned()),
        ("jobs by batch", "/jobs?batch=3".to_owned()),
        ("job", format!("/jobs/{dead_job}")),
        ("batch", "/batches/3".to_owned()),
        ("schedules", "/schedules".to_owned()),
        ("workers", "/workers".to_owned()),
        ("health", "/health".to_owned()),
    ]);
    pages
}

pub(crate) async fn dashboard(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.dashboard_jobs;
    let unfinished = jobs / 50;
    let backend = pg.fresh(SCHEMA).await?;
    let started = Instant::now();
    let fill = |sql: &str| {
        sql.replace("{schema}", SCHEMA)
            .replace("{n}", &jobs.to_string())
            .replace("{unfinished}", &unfinished.to_string())
    };
    pg.execute(&fill(STORE)).await?;
    for statement in fill(LINKS).split(';') {
        pg.execute(statement).await?;
    }
    eprintln!(
        "   pg-dashboard: stored {jobs} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let dead_job: i64 = pg
        .scalar(&format!(
            "SELECT min(id) FROM {SCHEMA}.jobs WHERE state = 'dead'"
        ))
        .await?;
    let client = Client::new(backend.clone());
    let app = || {
        axum::Router::new()
            .merge(jobs_dashboard::Dashboard::new(client.clone()).router())
            .merge(jobs_dashboard::health_router(client.clone()))
    };

    let mut report = Report::new("pg-dashboard", "postgres")
        .setup("jobs", jobs)
        .setup("unfinished", unfinished)
        .setup("views_per_page", sizes.dashboard_views);

    // the overview's first view, on a dashboard that has counted nothing
    let mut first = Vec::new();
    for _ in 0..sizes.dashboard_first_views {
        let fresh = app();
        first.push(view(&fresh, "/").await?);
        // let its background count end before the next one starts
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let first = Summary::of(first);
    report.figure(
        "overview first view max",
        first.max,
        "ms",
        Some(Target::AtMost(TARGET_MS)),
    );

    let app = app();
    // the first view starts the overview's tally; wait for it to land
    view(&app, "/").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut details = serde_json::Map::new();
    for (name, path) in pages(dead_job) {
        let mut times = Vec::new();
        for _ in 0..sizes.dashboard_views {
            times.push(view(&app, &path).await?);
        }
        let times = Summary::of(times);
        details.insert(
            path.clone(),
            json!({"p50_ms": times.p50, "max_ms": times.max}),
        );
        let label = match name {
            "jobs by state" => format!("jobs {}", path.rsplit('=').next().unwrap_or("")),
            "job" => "job (a dead one)".to_owned(),
            _ => name.to_owned(),
        };
        report.figure(
            format!("{label} p50"),
            times.p50,
            "ms",
            Some(Target::AtMost(TARGET_MS)),
        );
        report.figure(format!("{label} max"), times.max, "ms", None);
    }
    report.details.insert("pages".into(), details.into());
    backend.pool().close().await;
    pg.drop_schema(SCHEMA).await?;
    Ok(report)
}

/// Requests `path` from a loopback peer, as a browser would; the time from
/// the request to the last byte of a `200 OK` answer, in milliseconds.
async fn view(app: &axum::Router, path: &str) -> Result<f64> {
    let mut request = Request::get(path)
        .body(Body::empty())
        .map_err(|e| format!("request {path}: {e}"))?;
    let peer = SocketAddr::from(([127, 0, 0, 1], 8080));
    request.extensions_mut().insert(ConnectInfo(peer));
    let started = Instant::now();
    let response = app
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .map_err(|e| format!("GET {path}: read the body: {e}"))?;
    let took = started.elapsed();
    if status != StatusCode::OK {
        return Err(format!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(took.as_secs_f64() * 1e3)
}
