//! `GET /`: jobs per queue and state, and what finished in the last hour.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use chrono::Utc;
use jobs_core::{JobState, QueueCounts};
use maud::{Markup, html};

use super::job::Done;

use crate::Shared;
use crate::chart;
use crate::layout::{Base, PageError, frame};

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Query(done): Query<Done>,
) -> Result<Markup, PageError> {
    let now = Utc::now();
    let counts = shared.client.counts().await?;
    // every queue with jobs or a pause record, with its counts and pause
    let mut queues: BTreeMap<String, (QueueCounts, bool)> = counts
        .iter()
        .map(|(queue, by_state)| (queue.to_owned(), (*by_state, false)))
        .collect();
    for queue in shared.client.queues().await? {
        queues.entry(queue.name).or_default().1 = queue.paused;
    }
    let since = now - chrono::TimeDelta::minutes(chart::MINUTES);
    let minutes = shared.client.finished_per_minute(since).await?;
    let body = html! {
        @if !done.done.is_empty() {
            p.notice role="status" { (done.done) }
        }
        h2 { "Finished in the last hour" }
        (chart::finished_per_minute(&minutes, now))
        h2 { "Queues" }
        @if queues.is_empty() {
            p { "No jobs are stored." }
        } @else {
            table.queues {
                thead {
                    tr {
                        th { "queue" }
                        @for state in JobState::ALL { th.num { (state.as_str()) } }
                        th { "oldest available" }
                        th { "status" }
                    }
                }
                tbody {
                    @for (queue, (by_state, paused)) in &queues {
                        tr {
                            td { a href=(base.to(&format!("/jobs?queue={}", encode(queue)))) { (queue) } }
                            @for state in JobState::ALL {
                                td.num {
                                    @let n = by_state.get(state);
                                    @if n > 0 {
                                        a href=(base.to(&format!("/jobs?queue={}&state={}", encode(queue), state.as_str()))) { (n) }
                                    } @else { "0" }
                                }
                            }
                            td {
                                @if let Some(due) = by_state.oldest_available_at {
                                    "waiting " (seconds(now - due)) " s"
                                } @else { "—" }
                            }
                            td { div.actions {
                                @if *paused { span.badge { "paused" } } @else { "running" }
                                @if !shared.read_only {
                                    @let action = if *paused { "resume" } else { "pause" };
                                    form method="post" action=(base.to(&format!("/queues/{}/{action}", encode(queue)))) {
                                        input type="hidden" name="csrf" value=(shared.token.as_str());
                                        button type="submit" aria-label={(action) " queue " (queue)} {
                                            @if *paused { "Resume" } @else { "Pause" }
                                        }
                                    }
                                }
                            }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&base, "Overview", Some(5), body))
}

fn seconds(span: chrono::TimeDelta) -> i64 {
    span.num_seconds().max(0)
}

/// `text` as a query-string value.
pub(crate) fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(char::from(byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}
