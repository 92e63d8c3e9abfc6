//! `GET /health`: 200 while the store works, 503 when it does not, with
//! the reasons as JSON.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jobs_core::{Client, job};
use jobs_dashboard::health_router;
use jobs_memory::MemoryBackend;
use tower::ServiceExt;

#[job(name = "health_probe", queue = "unserved")]
async fn probe(n: i64) {
    let _ = n;
}

async fn get_health(client: Client) -> (StatusCode, serde_json::Value) {
    let app: axum::Router = health_router(client);
    let request = Request::builder()
        .uri("/health")
        .body(Body::empty())
        .expect("a request");
    let response = app.oneshot(request).await.expect("a response");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body");
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

#[tokio::test]
async fn healthy_and_degraded_answer_200_and_unhealthy_503() {
    let backend = MemoryBackend::with_capacity(2);
    let client = Client::new(backend);
    let (status, body) = get_health(client.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy", "{body}");

    // jobs on a queue no live worker serves, the store half full
    probe::enqueue(&client, 1).await.unwrap();
    let (status, body) = get_health(client.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(body["reasons"].to_string().contains("unserved"), "{body}");

    // full: unhealthy
    probe::enqueue(&client, 2).await.unwrap();
    let (status, body) = get_health(client).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert!(!body["reasons"].as_array().unwrap().is_empty());
}
