//! The rules of the job state machine: what each way an attempt can end
//! does to a job. Decided here, once, and handed to every backend as a
//! [`JobTransition`] to store as given.

use chrono::{DateTime, Utc};

use crate::backend::{ExpiredJob, JobTransition, RunningAttempt, after};
use crate::retry::RetryPolicy;
use crate::{AttemptError, JobState};

/// The message that starts the error recorded for a rescued attempt.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub const WORKER_LOST: &str = "worker lost";

/// How an attempt ended, as the worker decided it. Backends never see it:
/// they store the [`JobTransition`] it becomes. (Public, under `testing`,
/// for backends' own tests.)
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub enum Outcome {
    /// Succeeded.
    Completed,
    /// Failed with attempts left: retried at `at`.
    Retry {
        /// When the next attempt may start.
        at: DateTime<Utc>,
        /// The failed attempt's error.
        error: AttemptError,
    },
    /// Failed for good.
    Dead {
        /// The last attempt's error.
        error: AttemptError,
    },
    /// Run again at `at` without using up an attempt.
    Snooze {
        /// When to run again.
        at: DateTime<Utc>,
    },
    /// The job cancelled itself.
    Cancelled {
        /// Why.
        error: AttemptError,
    },
    /// Not run, or interrupted at shutdown: not the job's fault. It goes
    /// back to `Available` at its old place in the queue (its due time is
    /// kept, so it runs before jobs enqueued after it), attempt not counted.
    Release,
}

impl Outcome {
    /// What to store for `run` ending this way.
    #[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
    pub fn into_transition(self, run: RunningAttempt) -> JobTransition {
        let (state, scheduled_at, attempt_counted, error) = match self {
            Outcome::Completed => (JobState::Completed, None, true, None),
            Outcome::Retry { at, error } => (JobState::Retryable, Some(at), true, Some(error)),
            Outcome::Dead { error } => (JobState::Dead, None, true, Some(error)),
            Outcome::Snooze { at } => (JobState::Scheduled, Some(at), false, None),
            Outcome::Cancelled { error } => (JobState::Cancelled, None, true, Some(error)),
            Outcome::Release => (JobState::Available, None, false, None),
        };
        JobTransition {
            run,
            state,
            scheduled_at,
            attempt_counted,
            error,
        }
    }
}

/// The outcome of a failed attempt under `policy`: retried after the
/// policy's delay while attempts are left, `Dead` after the last.
pub(crate) fn failure(
    policy: &RetryPolicy,
    attempt: u32,
    max_attempts: u32,
    error: AttemptError,
    now: DateTime<Utc>,
) -> Outcome {
    if attempt >= max_attempts {
        Outcome::Dead { error }
    } else {
        Outcome::Retry {
            at: after(now, policy.delay(attempt)),
            error,
        }
    }
}

/// What a rescue does to a job whose worker stopped renewing its lease:
/// the attempt failed with "worker lost", retried per the job's own policy
/// (as any failure is, so a job that keeps killing its worker backs off
/// instead of retrying in a tight loop).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn rescue(expired: &ExpiredJob, policy: &RetryPolicy, now: DateTime<Utc>) -> JobTransition {
    let message = match &expired.worker_id {
        Some(worker) => format!("{WORKER_LOST}: worker {worker} stopped renewing its lease"),
        None => format!("{WORKER_LOST}: its worker stopped renewing its lease"),
    };
    let error = AttemptError {
        attempt: expired.run.attempt,
        message,
        at: now,
    };
    failure(
        policy,
        expired.run.attempt,
        expired.max_attempts,
        error,
        now,
    )
    .into_transition(expired.run)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::JobId;
    use crate::retry::Backoff;

    fn run() -> RunningAttempt {
        RunningAttempt {
            id: JobId::new(7),
            attempt: 2,
        }
    }

    #[test]
    fn release_keeps_the_due_time_and_gives_the_attempt_back() {
        let transition = Outcome::Release.into_transition(run());
        assert_eq!(transition.state, JobState::Available);
        assert_eq!(transition.scheduled_at, None, "the job keeps its place");
        assert!(!transition.attempt_counted);
    }

    #[test]
    fn rescue_applies_the_jobs_backoff_and_kills_the_last_attempt() {
        let now = Utc::now();
        let policy = RetryPolicy::new(4).backoff(
            Backoff::Fixed,
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        let expired = ExpiredJob {
            run: run(),
            kind: "k".into(),
            max_attempts: 5,
            worker_id: Some("w-1".into()),
        };
        let transition = rescue(&expired, &policy, now);
        assert_eq!(transition.state, JobState::Retryable);
        let at = transition.scheduled_at.expect("a retry time");
        let delay = (at - now).num_milliseconds();
        assert!(
            (54_000..=66_000).contains(&delay),
            "retry after {delay} ms, not ~60 s"
        );
        let error = transition.error.expect("an error");
        assert!(error.message.starts_with(WORKER_LOST), "{}", error.message);
        assert!(error.message.contains("w-1"), "{}", error.message);

        let last = ExpiredJob {
            max_attempts: 2,
            ..expired
        };
        assert_eq!(rescue(&last, &policy, now).state, JobState::Dead);
    }

    #[test]
    fn a_failure_far_in_the_future_saturates() {
        let policy = RetryPolicy::new(4).backoff(Backoff::Fixed, Duration::MAX, Duration::MAX);
        let error = AttemptError {
            attempt: 1,
            message: "e".into(),
            at: Utc::now(),
        };
        let outcome = failure(&policy, 1, 5, error, DateTime::<Utc>::MAX_UTC);
        assert!(matches!(outcome, Outcome::Retry { at, .. } if at == crate::backend::LATEST));
    }
}
