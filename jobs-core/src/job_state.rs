//! The life cycle of a job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a job is in its life cycle.
///
/// ```text
///  enqueue ──► (Awaiting: parents unfinished) ──►
///          ──► Scheduled ──(time comes)──► Available ──(fetched)──► Running ──► Completed
///                                              ▲                      │
///                                              └──── Retryable ◄──────┤ (failed, attempts left)
///                                                                     ├──► Dead      (attempts spent, permanent error)
///                                                                     └──► Cancelled (JobError::cancel, Client::cancel)
/// ```
///
/// `Completed`, `Dead` and `Cancelled` are final; `Client::retry` moves a
/// `Dead` or `Cancelled` job back to `Available`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its parents (`.after(id)`, `.after_finished(id)`, a
    /// batch's callbacks) to finish.
    Awaiting,
    /// Waiting for its scheduled time.
    Scheduled,
    /// Ready to run; waiting for a free worker slot.
    Available,
    /// Claimed by a worker and running now.
    Running,
    /// Failed, waiting for its next attempt.
    Retryable,
    /// Finished successfully.
    Completed,
    /// Failed for good: attempts spent, a permanent error, or arguments that no
    /// longer decode.
    Dead,
    /// Stopped for good by `JobError::cancel` or `Client::cancel`.
    Cancelled,
}

impl JobState {
    /// Every state, in life-cycle order.
    pub const ALL: [JobState; 8] = [
        JobState::Awaiting,
        JobState::Scheduled,
        JobState::Available,
        JobState::Running,
        JobState::Retryable,
        JobState::Completed,
        JobState::Dead,
        JobState::Cancelled,
    ];

    /// `true` for `Completed`, `Dead` and `Cancelled`.
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Dead | JobState::Cancelled
        )
    }

    /// The lower-case name used in storage and logs (`"available"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Awaiting => "awaiting",
            JobState::Scheduled => "scheduled",
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Retryable => "retryable",
            JobState::Completed => "completed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown state name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown job state `{0}`: expected one of awaiting, scheduled, available, running, retryable, completed, dead, cancelled"
)]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownJobState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in JobState::ALL {
            assert_eq!(state.to_string().parse::<JobState>(), Ok(state));
        }
        assert!("finished".parse::<JobState>().is_err());
    }

    #[test]
    fn only_final_states_are_finished() {
        let finished: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .collect();
        assert_eq!(
            finished,
            [JobState::Completed, JobState::Dead, JobState::Cancelled]
        );
    }
}
