//! A web dashboard for [jobs-core](jobs_core): an axum [`Router`] to nest
//! in your own application.
//!
//! ```no_run
//! use jobs_core::Client;
//! use jobs_dashboard::Dashboard;
//!
//! # async fn demo(client: Client) -> std::io::Result<()> {
//! let app = axum::Router::new().nest("/jobs", Dashboard::new(client).router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // the peer address is how the dashboard knows a request is local
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await
//! # }
//! ```
//!
//! Pages: an overview (jobs per queue and state, completed and failed jobs
//! per minute over the last hour, pause and resume of each queue), jobs by
//! state, queue, kind or batch, one job with its arguments, attempts and
//! errors (and retry, cancel, delete), recurring schedules (trigger now,
//! remove), batches and the live workers. [`health_router`] answers
//! readiness probes.
//!
//! # Access
//!
//! Like Hangfire's dashboard, it serves only requests from a loopback
//! address unless told otherwise: [`Dashboard::authorize`] replaces that
//! rule with your own check (a session, a header set by your proxy), and
//! [`Dashboard::read_only`] hides every action. Serve the application with
//! `into_make_service_with_connect_info::<SocketAddr>()` so the peer
//! address is known; without it, and without `authorize`, every request is
//! refused.
//!
//! Actions are `POST` forms carrying a token only the dashboard's own
//! pages know, and a request another site sends (`Sec-Fetch-Site:
//! cross-site`, or an `Origin` naming another host) is refused, so a page
//! elsewhere cannot make an operator's browser retry or delete jobs.
//! Everything a job stored (arguments, error messages, kind and queue
//! names) is escaped; no page loads anything from the network.

mod access;
mod actions;
mod chart;
mod csrf;
mod health;
mod layout;
mod pages;
mod tally;

pub use self::health::health_router;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::routing::{get, post};
use jobs_core::Client;

/// Decides whether a request may use the dashboard.
type Authorize = dyn Fn(&Request) -> bool + Send + Sync;

/// The dashboard's settings, shared by its handlers.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) authorize: Option<Box<Authorize>>,
    pub(crate) read_only: bool,
    pub(crate) token: csrf::Token,
    /// The overview's count of every kept job.
    pub(crate) tallies: tally::Tallies,
}

/// The dashboard: configure it, then mount its [`router`](Self::router).
pub struct Dashboard {
    shared: Shared,
}

impl Dashboard {
    /// A dashboard over the store `client` talks to, serving loopback
    /// requests only, with every action enabled.
    pub fn new(client: Client) -> Self {
        Self {
            shared: Shared {
                client,
                authorize: None,
                read_only: false,
                token: csrf::Token::new(),
                tallies: tally::Tallies::new(),
            },
        }
    }

    /// Serves the requests `check` accepts, from any address, instead of
    /// loopback requests only; the others get `403 Forbidden`.
    ///
    /// ```
    /// # use jobs_core::Client;
    /// # fn demo(client: Client) {
    /// let dashboard = jobs_dashboard::Dashboard::new(client).authorize(|request| {
    ///     request.headers().get("x-operator").is_some_and(|value| value == "yes")
    /// });
    /// # }
    /// ```
    pub fn authorize(mut self, check: impl Fn(&Request) -> bool + Send + Sync + 'static) -> Self {
        self.shared.authorize = Some(Box::new(check));
        self
    }

    /// Hides every action (retry, cancel, delete, trigger, remove, pause,
    /// resume) and refuses
    /// their requests.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.shared.read_only = read_only;
        self
    }

    /// The routes, to nest under a path of your choice.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let shared = Arc::new(self.shared);
        Router::new()
            .route("/", get(pages::overview::page))
            .route("/jobs", get(pages::jobs::page))
            .route("/jobs/{id}", get(pages::job::page))
            .route("/jobs/{id}/{action}", post(actions::job))
            .route("/schedules", get(pages::schedules::page))
            .route("/schedules/{id}/remove", post(actions::remove_schedule))
            .route("/schedules/{id}/trigger", post(actions::trigger_schedule))
            .route("/queues/{name}/{action}", post(actions::queue))
            .route("/workers", get(pages::workers::page))
            .route("/batches", get(pages::batch::lookup))
            .route("/batches/{id}", get(pages::batch::page))
            .route("/assets/style.css", get(layout::stylesheet))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&shared),
                access::guard,
            ))
            .with_state(shared)
    }
}
