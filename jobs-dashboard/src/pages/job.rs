//! `GET /jobs/{id}`: one job, with everything stored about it, and its
//! actions.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use jobs_core::{JobId, JobInfo, JobState};
use maud::{Markup, html};
use serde::Deserialize;

use crate::Shared;
use crate::layout::{Base, PageError, frame, time};

/// What the last action did, shown once after its redirect.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    pub(crate) done: String,
}

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Markup, PageError> {
    let id: JobId = id
        .parse()
        .map_err(|_| PageError::bad_request(format!("`{id}` is not a job id")))?;
    let job = shared
        .client
        .job(id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no job {id} is stored")))?;
    let args = serde_json::to_string_pretty(&job.args).unwrap_or_else(|_| job.args.to_string());
    let body = html! {
        @if !done.done.is_empty() {
            p.notice role="status" { (done.done) }
        }
        dl.fields {
            dt { "kind" } dd { (job.kind) }
            dt { "queue" } dd { a href=(base.to(&format!("/jobs?queue={}", super::overview::encode(&job.queue)))) { (job.queue) } }
            dt { "state" } dd { (super::state(job.state)) }
            dt { "attempts" } dd { (job.attempt) " of at most " (job.max_attempts) }
            dt { "priority" } dd { (job.priority) }
            dt { "created" } dd { (time(job.created_at)) }
            dt { "scheduled" } dd { (time(job.scheduled_at)) }
            dt { "last started" } dd { @if let Some(at) = job.attempted_at { (time(at)) } @else { "never" } }
            dt { "finished" } dd { @if let Some(at) = job.finished_at { (time(at)) } @else { "not yet" } }
            @if let Some(progress) = job.progress {
                dt { "progress" } dd { progress max="1" value=(progress) {} " " (format!("{:.0} %", progress * 100.0)) }
            }
            @if let Some(key) = &job.unique_key {
                dt { "unique key" } dd { code { (key) } }
            }
            @if !job.parents.is_empty() {
                dt { "waits for" } dd {
                    @for parent in &job.parents {
                        a href=(base.to(&format!("/jobs/{parent}"))) { (parent) } " "
                    }
                }
            }
            @if let Some(batch) = job.batch {
                dt { "batch" } dd { a href=(base.to(&format!("/batches/{batch}"))) { (batch) } }
            }
        }
        (actions(&shared, &base, &job))
        h2 { "Arguments" }
        pre.args { (args) }
        h2 { "Errors" }
        @if job.errors.is_empty() {
            p { "No attempt failed." }
        } @else {
            table.errors {
                thead { tr { th.num { "attempt" } th { "at" } th { "message" } } }
                tbody {
                    @for error in &job.errors {
                        tr {
                            td.num { (error.attempt) }
                            td { (time(error.at)) }
                            td { pre.message { (error.message) } }
                        }
                    }
                }
            }
        }
    };
    let title = format!("Job {}", job.id);
    let refresh = (!job.state.is_finished()).then_some(5);
    Ok(frame(&base, &title, refresh, body))
}

/// The buttons this job's state allows, unless the dashboard is read-only.
fn actions(shared: &Shared, base: &Base, job: &JobInfo) -> Markup {
    if shared.read_only {
        return html! {};
    }
    let retry = matches!(
        job.state,
        JobState::Dead | JobState::Cancelled | JobState::Retryable | JobState::Scheduled
    );
    let cancel = !job.state.is_finished();
    let delete = job.state != JobState::Running;
    let form = |action: &str, label: &str, class: &str| {
        html! {
            form method="post" action=(base.to(&format!("/jobs/{}/{action}", job.id))) {
                input type="hidden" name="csrf" value=(shared.token.as_str());
                button type="submit" class=(class) { (label) }
            }
        }
    };
    html! {
        div.actions {
            @if retry { (form("retry", "Retry now", "")) }
            @if cancel { (form("cancel", "Cancel", "danger")) }
            @if delete { (form("delete", "Delete", "danger")) }
        }
    }
}
