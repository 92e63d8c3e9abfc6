//! `GET /workers`: the live workers.

use std::sync::Arc;

use axum::extract::State;
use maud::{Markup, html};

use crate::Shared;
use crate::layout::{Base, PageError, frame, time};

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
) -> Result<Markup, PageError> {
    let workers = shared.client.workers().await?;
    let body = html! {
        @if workers.is_empty() {
            p { "No live worker: none heartbeated within its lease." }
        } @else {
            table {
                thead { tr {
                    th { "worker" } th { "host" } th.num { "pid" } th { "queues" }
                    th.num { "running" } th { "started" } th { "last seen" }
                } }
                tbody {
                    @for worker in &workers {
                        tr {
                            td { code { (worker.id) } }
                            td { (worker.hostname) }
                            td.num { (worker.pid) }
                            td {
                                @for queue in &worker.queues {
                                    a href=(base.to(&format!("/jobs?queue={}", super::overview::encode(&queue.name)))) { (queue.name) }
                                    " ×" (queue.concurrency) " "
                                }
                            }
                            td.num { (worker.running) }
                            td { (time(worker.started_at)) }
                            td { (time(worker.last_seen_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&base, "Live workers", Some(5), body))
}
