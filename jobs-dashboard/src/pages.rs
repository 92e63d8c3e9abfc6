//! The pages, one module each.

pub(crate) mod batch;
pub(crate) mod job;
pub(crate) mod jobs;
pub(crate) mod overview;
pub(crate) mod schedules;
pub(crate) mod workers;

use jobs_core::JobState;
use maud::{Markup, html};

/// A job state, styled by its kind of outcome.
pub(crate) fn state(state: JobState) -> Markup {
    html! { span class={"state state-" (state.as_str())} { (state.as_str()) } }
}
