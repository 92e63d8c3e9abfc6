//! `GET /batches` and `GET /batches/{id}`: where a batch stands.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use jobs_core::BatchId;
use maud::{Markup, html};
use serde::Deserialize;

use crate::Shared;
use crate::layout::{Base, PageError, frame, time};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Lookup {
    #[serde(default)]
    id: String,
}

/// A form to open a batch by id (batches are reached from their jobs).
pub(crate) async fn lookup(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Query(lookup): Query<Lookup>,
) -> Result<Markup, PageError> {
    if !lookup.id.is_empty() {
        return page(State(shared), base, Path(lookup.id)).await;
    }
    let body = html! {
        p { "A batch is reached from any of its jobs, or by its id:" }
        form.filters method="get" action=(base.to("/batches")) {
            label { "batch id" input name="id" inputmode="numeric" required; }
            button type="submit" { "Open" }
        }
    };
    Ok(frame(&base, "Batches", None, body))
}

pub(crate) async fn page(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let id: BatchId = id
        .trim()
        .parse()
        .map_err(|_| PageError::bad_request(format!("`{id}` is not a batch id")))?;
    let batch = shared
        .client
        .batch(id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no batch {id} is stored")))?;
    let body = html! {
        dl.fields {
            dt { "jobs" } dd { a href=(base.to(&format!("/jobs?batch={id}"))) { (batch.total) } }
            dt { "pending" } dd { (batch.pending) }
            dt { "completed" } dd { (batch.completed) }
            dt { "dead" } dd { (batch.dead) }
            dt { "cancelled" } dd { (batch.cancelled) }
            dt { "created" } dd { (time(batch.created_at)) }
            dt { "finished" } dd { @if let Some(at) = batch.finished_at { (time(at)) } @else { "not yet" } }
            @if let Some(job) = batch.on_success {
                dt { "on success" } dd { a href=(base.to(&format!("/jobs/{job}"))) { (job) } }
            }
            @if let Some(job) = batch.on_complete {
                dt { "on complete" } dd { a href=(base.to(&format!("/jobs/{job}"))) { (job) } }
            }
        }
    };
    let title = format!("Batch {id}");
    let refresh = batch.finished_at.is_none().then_some(5);
    Ok(frame(&base, &title, refresh, body))
}
