//! Who may use the dashboard, and which requests may act: loopback peers
//! (or the user's own check), and no action sent by another site.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Shared;

/// Refuses what the dashboard must not serve, before any handler runs.
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = match &shared.authorize {
        Some(check) => check(&request),
        None => is_loopback_peer(&request),
    };
    if !allowed {
        let why = match shared.authorize {
            Some(_) => "the jobs dashboard refused this request",
            None => {
                "the jobs dashboard serves requests from this machine only \
                 (loopback addresses); use Dashboard::authorize to allow others"
            }
        };
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    if request.method() == Method::POST {
        if shared.read_only {
            return (StatusCode::FORBIDDEN, "the jobs dashboard is read-only").into_response();
        }
        if is_cross_site(request.headers()) {
            return (
                StatusCode::FORBIDDEN,
                "refused: this action was sent by another site",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Whether the request came from a loopback address. Without the peer
/// address (the app was not served with `ConnectInfo`), it did not.
fn is_loopback_peer(request: &Request) -> bool {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback())
}

/// Whether the browser says another site sent the request: the fetch
/// metadata it sets on every request, or an `Origin` that is not this
/// host.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("invalid"))
    };
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return true;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => {
            let origin_host = origin
                .split_once("://")
                .map_or(origin, |(_, rest)| rest)
                .trim_end_matches('/');
            !origin_host.eq_ignore_ascii_case(host)
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.insert(name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn another_site_is_refused_and_the_same_origin_is_not() {
        assert!(!is_cross_site(&headers(&[])));
        assert!(!is_cross_site(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
        ])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
    }
}
