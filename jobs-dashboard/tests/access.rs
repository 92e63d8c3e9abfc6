//! Who may use the dashboard and which actions it takes, request by
//! request, without leaving the process: the peer address is set as axum's
//! `ConnectInfo` would set it, so a non-loopback peer is tested without
//! sending traffic to any other address.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use jobs_core::{Client, JobId, job};
use jobs_dashboard::Dashboard;
use jobs_memory::MemoryBackend;
use tower::ServiceExt;

#[job(name = "access_record")]
async fn record(label: String) {
    let _ = label;
}

fn app(dashboard: Dashboard) -> axum::Router {
    axum::Router::new().nest("/jobs", dashboard.router())
}

fn request(method: &str, uri: &str, peer: Option<&str>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf=not-the-token"))
        .expect("a request");
    if let Some(peer) = peer {
        let peer: SocketAddr = peer.parse().expect("a socket address");
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    request
}

async fn status(app: axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.oneshot(request).await.expect("a response");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn stored_job(client: &Client) -> JobId {
    record::enqueue(client, "<b>bold</b>".into()).await.unwrap()
}

#[tokio::test]
async fn only_loopback_peers_are_served_by_default() {
    let client = Client::new(MemoryBackend::new());
    let dashboard = || app(Dashboard::new(client.clone()));
    for peer in ["127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"] {
        let (status, _) = status(dashboard(), request("GET", "/jobs", Some(peer))).await;
        assert_eq!(status, StatusCode::OK, "{peer}");
    }
    for peer in ["10.1.2.3:5000", "192.168.0.9:443", "[2001:db8::1]:80"] {
        let (status, body) = status(dashboard(), request("GET", "/jobs", Some(peer))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{peer}");
        assert!(body.contains("loopback"), "{body}");
    }
    let (status, _) = status(dashboard(), request("GET", "/jobs", None)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no peer address known: refused"
    );
}

#[tokio::test]
async fn authorize_replaces_the_loopback_rule() {
    let client = Client::new(MemoryBackend::new());
    let dashboard = || {
        app(Dashboard::new(client.clone())
            .authorize(|request| request.headers().contains_key("x-operator")))
    };
    let mut allowed = request("GET", "/jobs/jobs", Some("10.1.2.3:5000"));
    allowed
        .headers_mut()
        .insert("x-operator", "ada".parse().unwrap());
    assert_eq!(status(dashboard(), allowed).await.0, StatusCode::OK);
    let refused = request("GET", "/jobs/jobs", Some("127.0.0.1:5000"));
    assert_eq!(status(dashboard(), refused).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_action_without_the_pages_token_or_from_another_site_is_refused() {
    let client = Client::new(MemoryBackend::new());
    let id = stored_job(&client).await;
    // one dashboard, one token: its pages and its actions share it
    let router = app(Dashboard::new(client.clone()));
    let dashboard = || router.clone();
    let uri = format!("/jobs/jobs/{id}/delete");
    let (status_code, body) = status(dashboard(), request("POST", &uri, Some("127.0.0.1:1"))).await;
    assert_eq!(status_code, StatusCode::FORBIDDEN);
    assert!(body.contains("token"), "{body}");
    let mut forged = request("POST", &uri, Some("127.0.0.1:1"));
    forged
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    assert_eq!(status(dashboard(), forged).await.0, StatusCode::FORBIDDEN);
    assert!(
        client.job(id).await.unwrap().is_some(),
        "nothing was deleted"
    );

    // the page's own form works
    let (_, page) = status(
        dashboard(),
        request("GET", &format!("/jobs/jobs/{id}"), Some("127.0.0.1:1")),
    )
    .await;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's form token");
    let mut own = request("POST", &uri, Some("127.0.0.1:1"));
    *own.body_mut() = Body::from(format!("csrf={token}"));
    let (status_code, _) = status(dashboard(), own).await;
    assert_eq!(status_code, StatusCode::SEE_OTHER);
    assert!(client.job(id).await.unwrap().is_none(), "deleted");
}

#[tokio::test]
async fn read_only_hides_and_refuses_every_action() {
    let client = Client::new(MemoryBackend::new());
    let id = stored_job(&client).await;
    let dashboard = || app(Dashboard::new(client.clone()).read_only(true));
    let (_, page) = status(
        dashboard(),
        request("GET", &format!("/jobs/jobs/{id}"), Some("127.0.0.1:1")),
    )
    .await;
    assert!(!page.contains("<form method=\"post\""), "{page}");
    let (status_code, _) = status(
        dashboard(),
        request(
            "POST",
            &format!("/jobs/jobs/{id}/cancel"),
            Some("127.0.0.1:1"),
        ),
    )
    .await;
    assert_eq!(status_code, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn stored_strings_are_escaped_and_bad_ids_are_clear() {
    let client = Client::new(MemoryBackend::new());
    let id = stored_job(&client).await;
    let dashboard = || app(Dashboard::new(client.clone()));
    let (_, page) = status(
        dashboard(),
        request("GET", &format!("/jobs/jobs/{id}"), Some("127.0.0.1:1")),
    )
    .await;
    assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>bold"));
    let (status_code, body) = status(
        dashboard(),
        request("GET", "/jobs/jobs/abc", Some("127.0.0.1:1")),
    )
    .await;
    assert_eq!(status_code, StatusCode::BAD_REQUEST);
    assert!(body.contains("not a job id"));
    let (status_code, _) = status(
        dashboard(),
        request("GET", "/jobs/jobs/999999", Some("127.0.0.1:1")),
    )
    .await;
    assert_eq!(status_code, StatusCode::NOT_FOUND);
    let (status_code, _) = status(
        dashboard(),
        request("GET", "/jobs/jobs?state=nope", Some("127.0.0.1:1")),
    )
    .await;
    assert_eq!(status_code, StatusCode::BAD_REQUEST);
}
