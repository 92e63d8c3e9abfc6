//! `GET /jobs`: jobs by state, queue, kind or batch, a page at a time.

use std::sync::Arc;

use axum::extract::{Query, State};
use jobs_core::{BatchId, JobFilter, JobState};
use maud::{Markup, html};
use serde::Deserialize;

use super::overview::encode;
use crate::Shared;
use crate::layout::{Base, PageError, frame, time};

/// Jobs on one page.
const PAGE: usize = 50;

/// The filters, as the query string gives them (empty means any).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    state: String,
    #[serde(default)]
    queue: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    batch: String,
    #[serde(default)]
    page: usize,
    /// What the last action did.
    #[serde(default)]
    done: String,
}

impl Filters {
    fn filter(&self) -> Result<JobFilter, PageError> {
        let mut filter = JobFilter::new()
            .limit(PAGE + 1)
            .offset(self.page.saturating_mul(PAGE));
        if !self.state.is_empty() {
            let state: JobState = self
                .state
                .parse()
                .map_err(|error| PageError::bad_request(format!("{error}")))?;
            filter = filter.state(state);
        }
        if !self.queue.is_empty() {
            filter = filter.queue(self.queue.clone());
        }
        if !self.kind.is_empty() {
            filter = filter.kind(self.kind.clone());
        }
        if !self.batch.is_empty() {
            let batch: BatchId = self.batch.parse().map_err(|_| {
                PageError::bad_request(format!("`{}` is not a batch id", self.batch))
            })?;
            filter = filter.batch(batch);
        }
        Ok(filter)
    }

    /// The query string of these filters on page `page`.
    fn query(&self, page: usize) -> String {
        format!(
            "/jobs?state={}&queue={}&kind={}&batch={}&page={page}",
            encode(&self.state),
            encode(&self.queue),
            encode(&self.kind),
            encode(&self.batch)
        )
    }
}

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Query(filters): Query<Filters>,
) -> Result<Markup, PageError> {
    let mut jobs = shared.client.list(filters.filter()?).await?;
    let more = jobs.len() > PAGE;
    jobs.truncate(PAGE);
    let body = html! {
        @if !filters.done.is_empty() {
            p.notice role="status" { (filters.done) }
        }
        form.filters method="get" action=(base.to("/jobs")) {
            label { "state"
                select name="state" {
                    option value="" selected[filters.state.is_empty()] { "any" }
                    @for state in JobState::ALL {
                        option value=(state.as_str()) selected[filters.state == state.as_str()] { (state.as_str()) }
                    }
                }
            }
            label { "queue" input name="queue" value=(filters.queue); }
            label { "kind" input name="kind" value=(filters.kind); }
            label { "batch" input name="batch" inputmode="numeric" size="8" value=(filters.batch); }
            button type="submit" { "Filter" }
        }
        @if jobs.is_empty() {
            p { "No jobs match." }
        } @else {
            table {
                thead { tr {
                    th.num { "id" } th { "kind" } th { "queue" } th { "state" }
                    th.num { "attempt" } th { "scheduled" } th { "finished" } th { "batch" }
                } }
                tbody {
                    @for job in &jobs {
                        tr {
                            td.num { a href=(base.to(&format!("/jobs/{}", job.id))) { (job.id) } }
                            td { (job.kind) }
                            td { (job.queue) }
                            td { (super::state(job.state)) }
                            td.num { (job.attempt) "/" (job.max_attempts) }
                            td { (time(job.scheduled_at)) }
                            td { @if let Some(at) = job.finished_at { (time(at)) } }
                            td { @if let Some(batch) = job.batch {
                                a href=(base.to(&format!("/batches/{batch}"))) { (batch) }
                            } }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="pages" {
            @if filters.page > 0 {
                a href=(base.to(&filters.query(filters.page - 1))) rel="prev" { "← previous" }
            }
            span { "page " (filters.page + 1) }
            @if more {
                a href=(base.to(&filters.query(filters.page + 1))) rel="next" { "next →" }
            }
        }
    };
    Ok(frame(&base, "Jobs", Some(10), body))
}
