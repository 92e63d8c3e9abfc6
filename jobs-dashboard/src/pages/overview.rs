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
    // live: the unfinished jobs (read from indexes) and the pause records
    let unfinished = shared.client.unfinished_counts().await?;
    let paused = shared.client.paused_queues().await?;
    // counted when quick, reused while fresh when counting is slow
    let shown = shared.tallies.get(&shared.client).await;
    let tally = shown.tally.as_deref();
    let mut queues: BTreeMap<String, Row> = BTreeMap::new();
    for (queue, counts) in unfinished.iter() {
        queues.entry(queue.to_owned()).or_default().live = *counts;
    }
    if let Some(tally) = tally {
        for (queue, counts) in tally.counts.iter() {
            queues.entry(queue.to_owned()).or_default().counted = Some(*counts);
        }
    }
    for queue in paused {
        queues.entry(queue).or_default().paused = true;
    }
    if tally.is_some() {
        // a queue the tally did not see had no finished jobs then
        for row in queues.values_mut() {
            row.counted.get_or_insert_default();
        }
    }
    let body = html! {
        @if !done.done.is_empty() {
            p.notice role="status" { (done.done) }
        }
        h2 { "Finished in the last hour" }
        @match tally {
            Some(tally) => (chart::finished_per_minute(&tally.minutes, tally.at)),
            None => p { "Counting the finished jobs…" },
        }
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
                    @for (queue, row) in &queues {
                        tr {
                            td { a href=(base.to(&format!("/jobs?queue={}", encode(queue)))) { (queue) } }
                            @for state in JobState::ALL {
                                td.num {
                                    @match row.count(state) {
                                        Some(0) => "0",
                                        Some(n) => a href=(base.to(&format!("/jobs?queue={}&state={}", encode(queue), state.as_str()))) { (n) },
                                        None => span title="being counted" { "…" },
                                    }
                                }
                            }
                            td {
                                @if let Some(due) = row.live.oldest_available_at {
                                    "waiting " (seconds(now - due)) " s"
                                } @else { "—" }
                            }
                            td { div.actions {
                                @if row.paused { span.badge { "paused" } } @else { "running" }
                                @if !shared.read_only {
                                    @let action = if row.paused { "resume" } else { "pause" };
                                    form method="post" action=(base.to(&format!("/queues/{}/{action}", encode(queue)))) {
                                        input type="hidden" name="csrf" value=(shared.token.as_str());
                                        button type="submit" aria-label={(action) " queue " (queue)} {
                                            @if row.paused { "Resume" } @else { "Pause" }
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
        @if let Some(error) = &shown.error {
            p.error { "The finished jobs could not be counted: " (error) }
        }
        @match tally {
            Some(tally) if tally.reusable_for() > std::time::Duration::ZERO => {
                p.muted {
                    "Finished jobs as counted " (seconds(now - tally.at)) " s ago: counting every kept job takes "
                    (tally.took.as_millis()) " ms here, so it is redone in the background, at most every "
                    (tally.reusable_for().as_secs()) " s. Unfinished jobs are counted live."
                }
            }
            Some(_) => {}
            None if shown.error.is_none() => p.muted { "This store keeps many jobs: the finished ones are being counted in the background and show at the next refresh." },
            None => {}
        }
    };
    Ok(frame(&base, "Overview", Some(5), body))
}

/// One queue's line of the table.
#[derive(Debug, Default)]
struct Row {
    /// The unfinished jobs, counted now.
    live: QueueCounts,
    /// Every job, as the latest tally counted them.
    counted: Option<QueueCounts>,
    paused: bool,
}

impl Row {
    /// The count shown for `state`: live for unfinished states, from the
    /// tally for finished ones (none before the first tally).
    fn count(&self, state: JobState) -> Option<u64> {
        if state.is_finished() {
            self.counted.map(|counted| counted.get(state))
        } else {
            Some(self.live.get(state))
        }
    }
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
