//! What every page shares: where the dashboard is mounted, the frame with
//! its navigation, the stylesheet, and error pages.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// The stylesheet, served from the crate itself.
const STYLE: &str = include_str!("../assets/style.css");

/// The path the dashboard is nested under (`/jobs`), for its links.
pub(crate) struct Base(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let nested = parts.uri.path().to_owned();
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| nested.clone(), |uri| uri.0.path().to_owned());
        let base = match original.strip_suffix(nested.as_str()) {
            Some(base) => base,
            None => original.trim_end_matches('/'),
        };
        Ok(Base(base.trim_end_matches('/').to_owned()))
    }
}

impl Base {
    /// A link to `path` (which starts with `/`) within the dashboard. The
    /// overview is the mount point itself (`/jobs`, not `/jobs/`, which a
    /// nested router does not match).
    pub(crate) fn to(&self, path: &str) -> String {
        match path {
            "/" if !self.0.is_empty() => self.0.clone(),
            _ => format!("{}{path}", self.0),
        }
    }
}

/// A page in the dashboard's frame. `refresh`: reload every so many
/// seconds (pages that watch the store).
pub(crate) fn frame(base: &Base, title: &str, refresh: Option<u32>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · jobs" }
                link rel="stylesheet" href=(base.to("/assets/style.css"));
            }
            body {
                header {
                    nav aria-label="dashboard" {
                        a.brand href=(base.to("/")) { "jobs" }
                        a href=(base.to("/")) { "Overview" }
                        a href=(base.to("/jobs")) { "Jobs" }
                        a href=(base.to("/schedules")) { "Schedules" }
                        a href=(base.to("/batches")) { "Batches" }
                        a href=(base.to("/workers")) { "Workers" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page that could not be shown, with its status.
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// Nothing stored under this id.
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: what.into(),
        }
    }

    /// An action the dashboard refuses.
    pub(crate) fn forbidden(what: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: what.into(),
        }
    }

    /// A request the dashboard cannot read.
    pub(crate) fn bad_request(what: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: what.into(),
        }
    }
}

impl From<jobs_core::Error> for PageError {
    fn from(error: jobs_core::Error) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("the job store could not answer: {error}"),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "Error · jobs" } }
                body { main { h1 { "Error" } p.error { (self.message) } } }
            }
        };
        (self.status, page).into_response()
    }
}

/// `GET /assets/style.css`.
pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

/// A time as the pages show it.
pub(crate) fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
