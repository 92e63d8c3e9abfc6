//! `GET /schedules`: the stored recurring schedules.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::{Markup, html};

use super::job::Done;
use crate::Shared;
use crate::layout::{Base, PageError, frame, time};

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Query(done): Query<Done>,
) -> Result<Markup, PageError> {
    let schedules = shared.client.schedules().await?;
    let body = html! {
        @if !done.done.is_empty() {
            p.notice role="status" { (done.done) }
        }
        @if schedules.is_empty() {
            p { "No recurring schedule is stored." }
        } @else {
            table {
                thead { tr {
                    th { "id" } th { "cron" } th { "zone" } th { "job" } th { "queue" }
                    th { "next run" } th { "last run" } th {}
                    @if !shared.read_only { th {} }
                } }
                tbody {
                    @for schedule in &schedules {
                        tr {
                            td { (schedule.id) }
                            td { code { (schedule.cron) } }
                            td { (schedule.tz) }
                            td { a href=(base.to(&format!("/jobs?kind={}", super::overview::encode(&schedule.kind)))) { (schedule.kind) } }
                            td { (schedule.queue) }
                            td { (time(schedule.next_run_at)) }
                            td { @if let Some(at) = schedule.last_run_at { (time(at)) } @else { "never" } }
                            td { @if schedule.orphaned {
                                span.badge title="no live worker declares this schedule; it still ticks" { "orphaned" }
                            } }
                            @if !shared.read_only {
                                td { div.actions {
                                    form method="post" action=(base.to(&format!("/schedules/{}/trigger", super::overview::encode(&schedule.id)))) {
                                        input type="hidden" name="csrf" value=(shared.token.as_str());
                                        button type="submit" { "Trigger now" }
                                    }
                                    form method="post" action=(base.to(&format!("/schedules/{}/remove", super::overview::encode(&schedule.id)))) {
                                        input type="hidden" name="csrf" value=(shared.token.as_str());
                                        button.danger type="submit" { "Remove" }
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
    Ok(frame(&base, "Recurring schedules", None, body))
}
