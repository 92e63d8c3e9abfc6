//! The rules of waiting on parents (SPEC §10), for backends to apply: what
//! a parent's end means for a child, and what a new child is at enqueue.
//!
//! A backend keeps, for each `Awaiting` job, the parents it still waits
//! for. When a parent ends (or is deleted), every child waiting on it
//! learns its [`ParentEnd`]: a condition it [satisfies](ParentEnd::satisfies)
//! is crossed off; one it breaks cancels the child at once with
//! [`broken_message`], and that cancellation is itself a parent's end for
//! the child's own children (the cascade). A child with nothing left to
//! wait for becomes `Available`, or `Scheduled` if its time is still to
//! come.

use chrono::{DateTime, Utc};

use super::params::{JobParent, ParentCondition};
use crate::{AttemptError, JobId, JobState};

/// How a parent ended, as its children see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParentEnd {
    /// It reached a finished state: `Completed`, `Dead` or `Cancelled`.
    Finished(JobState),
    /// It was deleted before it finished: it never will.
    Deleted,
}

impl ParentEnd {
    /// Whether a child's `condition` on a parent that ended so is met:
    /// `Completed` needs the parent `Completed`; `Finished` takes any end,
    /// deletion included (the parent will never run, so nothing is left
    /// to wait for).
    pub fn satisfies(self, condition: ParentCondition) -> bool {
        match condition {
            ParentCondition::Finished => true,
            ParentCondition::Completed => self == ParentEnd::Finished(JobState::Completed),
        }
    }

    /// The lower-case word a backend stores for it: the state's name, or
    /// `"deleted"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParentEnd::Finished(state) => state.as_str(),
            ParentEnd::Deleted => "deleted",
        }
    }
}

/// The message of a child cancelled because a parent it needed `Completed`
/// ended otherwise. It names the parent and how it ended:
///
/// ```
/// use jobs_core::JobState;
/// use jobs_core::backend::{ParentEnd, broken_message};
/// use jobs_core::JobId;
/// assert_eq!(
///     broken_message(JobId::new(12), ParentEnd::Finished(JobState::Dead)),
///     "parent job 12 ended dead; this job needed it completed"
/// );
/// assert_eq!(
///     broken_message(JobId::new(12), ParentEnd::Deleted),
///     "parent job 12 ended deleted; this job needed it completed"
/// );
/// ```
///
/// PostgreSQL's backend writes the same text in SQL; the conformance suite
/// holds both to it.
pub fn broken_message(parent: JobId, end: ParentEnd) -> String {
    format!(
        "parent job {parent} ended {}; this job needed it completed",
        end.as_str()
    )
}

/// The history entry of a child cancelled by a broken condition: attempt
/// `attempt` (the attempts it had started: 0 for a job that never ran).
pub fn broken_error(
    parent: JobId,
    end: ParentEnd,
    attempt: u32,
    at: DateTime<Utc>,
) -> AttemptError {
    AttemptError {
        attempt,
        message: broken_message(parent, end),
        at,
    }
}

/// What a new job with parents is when it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentVerdict {
    /// Every parent already met its condition: the job is stored as if it
    /// had none (`Available`, or `Scheduled` for a later time).
    Ready,
    /// It waits (`Awaiting`) for these parents, each with its condition.
    Waiting(Vec<JobParent>),
    /// A parent it needs `Completed` already ended otherwise: it is stored
    /// `Cancelled`, with [`broken_error`] of that parent in its history.
    Broken {
        /// The first such parent, in the order given.
        parent: JobId,
        /// How it ended.
        end: ParentEnd,
    },
}

/// Judges a new job's parents from their current states (`None`: no such
/// job). A parent that names no stored job is an error carrying its id
/// (`EnqueueError::UnknownParent`); nothing may be stored then.
///
/// ```
/// use jobs_core::backend::{judge_parents, JobParent, ParentCondition, ParentVerdict};
/// use jobs_core::{JobId, JobState};
/// let parents = [
///     JobParent { id: JobId::new(1), condition: ParentCondition::Completed },
///     JobParent { id: JobId::new(2), condition: ParentCondition::Finished },
/// ];
/// let verdict = judge_parents(&parents, |id| Some(if id.get() == 1 { JobState::Completed } else { JobState::Running }));
/// assert_eq!(verdict, Ok(ParentVerdict::Waiting(vec![parents[1]])));
/// assert_eq!(judge_parents(&parents, |_| None), Err(JobId::new(1)));
/// ```
pub fn judge_parents(
    parents: &[JobParent],
    mut state_of: impl FnMut(JobId) -> Option<JobState>,
) -> Result<ParentVerdict, JobId> {
    let mut waiting = Vec::new();
    let mut broken = None;
    for &parent in parents {
        let state = state_of(parent.id).ok_or(parent.id)?;
        if !state.is_finished() {
            waiting.push(parent);
            continue;
        }
        let end = ParentEnd::Finished(state);
        if !end.satisfies(parent.condition) && broken.is_none() {
            broken = Some((parent.id, end));
        }
    }
    Ok(match broken {
        Some((parent, end)) => ParentVerdict::Broken { parent, end },
        None if waiting.is_empty() => ParentVerdict::Ready,
        None => ParentVerdict::Waiting(waiting),
    })
}

/// The parents as a job keeps them: in the order given, each id once;
/// a parent named by both `.after` and `.after_finished` keeps the
/// stricter condition (`Completed`).
pub fn dedup_parents(parents: &mut Vec<JobParent>) {
    let mut kept: Vec<JobParent> = Vec::with_capacity(parents.len());
    for parent in parents.drain(..) {
        match kept.iter_mut().find(|kept| kept.id == parent.id) {
            Some(existing) => {
                if parent.condition == ParentCondition::Completed {
                    existing.condition = ParentCondition::Completed;
                }
            }
            None => kept.push(parent),
        }
    }
    *parents = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(id: i64, condition: ParentCondition) -> JobParent {
        JobParent {
            id: JobId::new(id),
            condition,
        }
    }

    #[test]
    fn completed_needs_completed_and_finished_takes_any_end() {
        for state in JobState::ALL.into_iter().filter(|s| s.is_finished()) {
            let end = ParentEnd::Finished(state);
            assert!(end.satisfies(ParentCondition::Finished));
            assert_eq!(
                end.satisfies(ParentCondition::Completed),
                state == JobState::Completed
            );
        }
        assert!(ParentEnd::Deleted.satisfies(ParentCondition::Finished));
        assert!(!ParentEnd::Deleted.satisfies(ParentCondition::Completed));
    }

    #[test]
    fn a_dead_parent_breaks_at_enqueue_and_a_running_one_waits() {
        let parents = [
            parent(1, ParentCondition::Finished),
            parent(2, ParentCondition::Completed),
            parent(3, ParentCondition::Completed),
        ];
        let states = |id: JobId| match id.get() {
            1 => Some(JobState::Dead),
            2 => Some(JobState::Running),
            _ => Some(JobState::Cancelled),
        };
        assert_eq!(
            judge_parents(&parents, states),
            Ok(ParentVerdict::Broken {
                parent: JobId::new(3),
                end: ParentEnd::Finished(JobState::Cancelled)
            })
        );
        let ready = |_| Some(JobState::Completed);
        assert_eq!(judge_parents(&parents, ready), Ok(ParentVerdict::Ready));
    }

    #[test]
    fn duplicates_keep_the_first_place_and_the_stricter_condition() {
        let mut parents = vec![
            parent(5, ParentCondition::Finished),
            parent(4, ParentCondition::Finished),
            parent(5, ParentCondition::Completed),
            parent(4, ParentCondition::Finished),
        ];
        dedup_parents(&mut parents);
        assert_eq!(
            parents,
            [
                parent(5, ParentCondition::Completed),
                parent(4, ParentCondition::Finished)
            ]
        );
    }
}
