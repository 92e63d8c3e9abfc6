//! The `POST` actions: each checks the form's token, acts through the
//! client, and redirects back to a page that says what happened.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use jobs_core::JobId;
use serde::Deserialize;

use crate::Shared;
use crate::layout::{Base, PageError};
use crate::pages::overview::encode;

/// What every action form sends.
#[derive(Debug, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf: String,
}

/// Lets the action run if the form carries the dashboard's token; the
/// overview then counts anew, as the action may change what it counted.
fn check(shared: &Shared, form: &ActionForm) -> Result<(), PageError> {
    if shared.token.matches(&form.csrf) {
        shared.tallies.invalidate();
        Ok(())
    } else {
        Err(PageError::forbidden(
            "refused: the form's token is missing or stale; reload the page and try again",
        ))
    }
}

/// `POST /jobs/{id}/{retry|cancel|delete}`.
pub(crate) async fn job(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    check(&shared, &form)?;
    let id: JobId = id
        .parse()
        .map_err(|_| PageError::bad_request(format!("`{id}` is not a job id")))?;
    let client = &shared.client;
    let (changed, done, refused) = match action.as_str() {
        "retry" => (
            client.retry(id).await?,
            "Retried: the job runs again.",
            "Not retried: only a dead, cancelled or waiting job can be, and not while another job holds its unique key.",
        ),
        "cancel" => (
            client.cancel(id).await?,
            "Cancelled.",
            "Not cancelled: the job has already finished.",
        ),
        "delete" => {
            if client.delete(id).await? {
                return Ok(Redirect::to(&base.to(&format!(
                    "/jobs?done={}",
                    encode(&format!("Deleted job {id}."))
                ))));
            }
            (false, "", "Not deleted: a running job cannot be.")
        }
        other => return Err(PageError::not_found(format!("no action `{other}`"))),
    };
    let message = if changed { done } else { refused };
    Ok(Redirect::to(
        &base.to(&format!("/jobs/{id}?done={}", encode(message))),
    ))
}

/// `POST /schedules/{id}/remove`.
pub(crate) async fn remove_schedule(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    check(&shared, &form)?;
    let message = if shared.client.remove_schedule(&id).await? {
        format!("Removed schedule {id}.")
    } else {
        format!("No schedule {id} was stored.")
    };
    Ok(Redirect::to(
        &base.to(&format!("/schedules?done={}", encode(&message))),
    ))
}

/// `POST /schedules/{id}/trigger`: one run now; shows the new job.
pub(crate) async fn trigger_schedule(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    check(&shared, &form)?;
    match shared.client.trigger_schedule(&id).await {
        Ok(job) => Ok(Redirect::to(&base.to(&format!(
            "/jobs/{job}?done={}",
            encode(&format!("Enqueued by schedule {id}."))
        )))),
        Err(jobs_core::Error::UnknownSchedule(_)) => Ok(Redirect::to(&base.to(&format!(
            "/schedules?done={}",
            encode(&format!("No schedule {id} is stored."))
        )))),
        Err(error) => Err(error.into()),
    }
}

/// `POST /queues/{name}/{pause|resume}`.
pub(crate) async fn queue(
    State(shared): State<Arc<Shared>>,
    base: Base,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    check(&shared, &form)?;
    let message = match action.as_str() {
        "pause" => match shared.client.pause_queue(&name).await? {
            true => format!("Paused queue {name}: no worker starts its jobs until it is resumed."),
            false => format!("Queue {name} was already paused."),
        },
        "resume" => match shared.client.resume_queue(&name).await? {
            true => format!("Resumed queue {name}."),
            false => format!("Queue {name} was not paused."),
        },
        other => return Err(PageError::not_found(format!("no action `{other}`"))),
    };
    Ok(Redirect::to(&format!(
        "{}?done={}",
        base.to("/"),
        encode(&message)
    )))
}
