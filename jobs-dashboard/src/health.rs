//! `GET /health` for readiness probes: `200` while the store and its
//! workers can do their work, `503` when they cannot, with the reasons as
//! JSON.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use jobs_core::{Client, HealthStatus};

/// A router answering `GET /health` with [`Client::health`]: `200` when
/// healthy or degraded (the store works; the reasons say what to look
/// at), `503` when unhealthy, and the [`Health`](jobs_core::Health) as a
/// JSON body either way. Merge it into your application; unlike the
/// dashboard it answers every peer, as probes come from elsewhere.
///
/// ```no_run
/// # fn demo(client: jobs_core::Client) {
/// let app: axum::Router = axum::Router::new()
///     .nest("/jobs", jobs_dashboard::Dashboard::new(client.clone()).router())
///     .merge(jobs_dashboard::health_router(client));
/// # }
/// ```
pub fn health_router<S: Clone + Send + Sync + 'static>(client: Client) -> Router<S> {
    Router::new()
        .route("/health", get(health))
        .with_state(client)
}

async fn health(State(client): State<Client>) -> Response {
    match client.health().await {
        Ok(health) => {
            let status = match health.status {
                HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::OK,
            };
            (status, Json(health)).into_response()
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": "unhealthy",
                "reasons": [format!("the health check failed: {error}")],
            })),
        )
            .into_response(),
    }
}
