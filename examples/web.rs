//! A web server that answers at once and leaves the slow work to a worker.
//!
//! ```text
//! cargo run --example web
//! curl -i -X POST localhost:3000/send-email -H 'content-type: application/json' \
//!      -d '{"user_id": 42, "template": "welcome"}'
//! curl localhost:3000/api/jobs/1
//! ```
//!
//! The dashboard is at <http://localhost:3000/jobs> (from this machine
//! only).

use std::time::Duration;

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jobs_core::EnqueueError;
use jobs_core::prelude::*;
use jobs_memory::MemoryBackend;
use serde::Deserialize;
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// The slow part, off the request path.
#[job(retries = 3, backoff = "exponential", queue = "mail")]
async fn send_email(user_id: i64, template: String) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(500)).await; // talking to a mail server
    println!("sent {template:?} to user {user_id}");
    Ok(())
}

#[derive(Deserialize)]
struct SendEmail {
    user_id: i64,
    template: String,
}

async fn enqueue_email(
    AxumState(client): AxumState<Client>,
    Json(body): Json<SendEmail>,
) -> Response {
    match send_email::enqueue(&client, body.user_id, body.template).await {
        Ok(id) => (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response(),
        Err(error @ EnqueueError::QueueFull { .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

async fn show_job(AxumState(client): AxumState<Client>, Path(id): Path<i64>) -> Response {
    match client.job(JobId::new(id)).await {
        Ok(Some(job)) => Json(job).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no job {id}") })),
        )
            .into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

fn app(client: Client) -> Router {
    Router::new()
        .route("/send-email", post(enqueue_email))
        .route("/api/jobs/{id}", get(show_job))
        .with_state(client.clone())
        .nest("/jobs", jobs_dashboard::Dashboard::new(client).router())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // RUST_LOG=debug shows each job's span and events
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let worker = Worker::builder(backend).queue("mail", 4).build()?.start();

    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // the peer address lets the dashboard serve local requests only
    let app = app(client).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        // Ctrl-C or SIGTERM (what `docker stop` sends) stops the server, then the worker
        .with_graceful_shutdown(jobs_core::shutdown_signal())
        .await?;
    worker.shutdown().await;
    Ok(())
}
