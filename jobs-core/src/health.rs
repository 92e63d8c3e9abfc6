//! Health: one verdict on a job store and the workers on it
//! (`Client::health`), from rules that live here and nowhere else.
//!
//! [`Health::assess`] is a pure function of what the client read (counts,
//! live workers, how full a bounded store is) and the
//! [`HealthThresholds`]; the client adds the one rule that needs no
//! reading: a backend that cannot be used is `Unhealthy`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::StoreFill;
use crate::{Counts, WorkerInfo};

/// How a store and its workers are doing, worst last: statuses compare
/// by severity (`Healthy < Degraded < Unhealthy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Nothing wrong found.
    Healthy,
    /// Jobs are delayed or at risk of it; the store itself works.
    Degraded,
    /// The store cannot be used, or is about to refuse jobs.
    Unhealthy,
}

impl HealthStatus {
    /// `"healthy"`, `"degraded"` or `"unhealthy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of [`Client::health`](crate::Client::health): the worst
/// status found, and one sentence per problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The worst status any rule found; `Healthy` when `reasons` is empty.
    pub status: HealthStatus,
    /// One sentence per problem found, worst first.
    pub reasons: Vec<String>,
}

/// The limits [`Health::assess`] checks against; every field has a
/// default.
///
/// ```
/// use std::time::Duration;
/// use jobs_core::HealthThresholds;
///
/// let strict = HealthThresholds {
///     max_queue_lag: Duration::from_secs(30),
///     ..HealthThresholds::default()
/// };
/// assert_eq!(strict.degraded_fill, 0.75);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthThresholds {
    /// A queue whose oldest available job has waited longer than this is
    /// `Degraded` (default 5 minutes).
    pub max_queue_lag: Duration,
    /// A bounded store at least this full (a share of its capacity, 0.0 to
    /// 1.0) is `Degraded` (default 0.75).
    pub degraded_fill: f64,
    /// A bounded store at least this full is `Unhealthy` (default 0.95).
    pub unhealthy_fill: f64,
}

/// [`HealthThresholds::max_queue_lag`]'s default: 5 minutes.
pub const DEFAULT_MAX_QUEUE_LAG: Duration = Duration::from_secs(300);

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            max_queue_lag: DEFAULT_MAX_QUEUE_LAG,
            degraded_fill: 0.75,
            unhealthy_fill: 0.95,
        }
    }
}

/// What [`Health::assess`] judges: what the client read from the store.
#[derive(Clone, Copy, Debug)]
pub struct HealthInputs<'a> {
    /// Job counts per queue and state, with each queue's oldest available
    /// job. Only the unfinished states are judged, so the client passes
    /// [`Client::unfinished_counts`](crate::Client::unfinished_counts),
    /// which stays quick however many finished jobs are kept.
    pub counts: &'a Counts,
    /// The live workers.
    pub workers: &'a [WorkerInfo],
    /// How full a bounded store is; `None` for an unbounded one.
    pub fill: Option<StoreFill>,
    /// The time to measure waits against.
    pub now: DateTime<Utc>,
}

impl Health {
    /// Nothing wrong.
    pub fn healthy() -> Self {
        Self {
            status: HealthStatus::Healthy,
            reasons: Vec::new(),
        }
    }

    /// `Unhealthy` for one reason: the store cannot be used.
    pub fn unhealthy(reason: impl Into<String>) -> Self {
        Self {
            status: HealthStatus::Unhealthy,
            reasons: vec![reason.into()],
        }
    }

    /// Judges a store that answered, against `thresholds`:
    ///
    /// - a bounded store at least `unhealthy_fill` full is `Unhealthy`, at
    ///   least `degraded_fill` full `Degraded`;
    /// - a queue whose oldest available job has waited longer than
    ///   `max_queue_lag` is `Degraded`;
    /// - a queue with available jobs that no live worker serves is
    ///   `Degraded`.
    ///
    /// ```
    /// use jobs_core::{Counts, Health, HealthInputs, HealthStatus, HealthThresholds, JobState};
    ///
    /// let mut counts = Counts::default();
    /// counts.add("mail", JobState::Available, 3);
    /// let inputs = HealthInputs { counts: &counts, workers: &[], fill: None, now: chrono::Utc::now() };
    /// let health = Health::assess(&inputs, &HealthThresholds::default());
    /// assert_eq!(health.status, HealthStatus::Degraded);
    /// assert_eq!(health.reasons, ["queue `mail` has 3 available jobs, but no live worker serves it"]);
    /// ```
    pub fn assess(inputs: &HealthInputs<'_>, thresholds: &HealthThresholds) -> Self {
        let mut found: Vec<(HealthStatus, String)> = Vec::new();
        if let Some(fill) = inputs.fill {
            found.extend(judge_fill(fill, thresholds));
        }
        for (queue, counts) in inputs.counts.iter() {
            if let Some(due) = counts.oldest_available_at
                && counts.available > 0
            {
                let waited = (inputs.now - due).to_std().unwrap_or(Duration::ZERO);
                if waited > thresholds.max_queue_lag {
                    found.push((
                        HealthStatus::Degraded,
                        format!(
                            "queue `{queue}`: its oldest available job has waited {}, longer than the {} allowed",
                            seconds(waited),
                            seconds(thresholds.max_queue_lag)
                        ),
                    ));
                }
            }
            if counts.available > 0 && !inputs.workers.iter().any(|worker| worker.serves(queue)) {
                found.push((
                    HealthStatus::Degraded,
                    format!(
                        "queue `{queue}` has {} available job{}, but no live worker serves it",
                        counts.available,
                        if counts.available == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        // worst first; within a status, in the order found
        found.sort_by_key(|(status, _)| std::cmp::Reverse(*status));
        Self {
            status: found
                .first()
                .map_or(HealthStatus::Healthy, |(status, _)| *status),
            reasons: found.into_iter().map(|(_, reason)| reason).collect(),
        }
    }
}

fn judge_fill(fill: StoreFill, thresholds: &HealthThresholds) -> Option<(HealthStatus, String)> {
    // a store of capacity zero refuses every job: full
    let share = if fill.capacity == 0 {
        1.0
    } else {
        fill.unfinished as f64 / fill.capacity as f64
    };
    let status = if share >= thresholds.unhealthy_fill {
        HealthStatus::Unhealthy
    } else if share >= thresholds.degraded_fill {
        HealthStatus::Degraded
    } else {
        return None;
    };
    Some((
        status,
        format!(
            "the store is {:.0} % full ({} of {} unfinished jobs it can hold)",
            (share * 100.0).floor(),
            fill.unfinished,
            fill.capacity
        ),
    ))
}

/// A wait in whole seconds: "75 s".
fn seconds(span: Duration) -> String {
    format!("{} s", span.as_secs())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{JobState, WorkerQueue};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap()
    }

    fn worker(queues: &[&str]) -> WorkerInfo {
        WorkerInfo {
            id: "host-1-abc".into(),
            hostname: "host".into(),
            pid: 1,
            queues: queues
                .iter()
                .map(|name| WorkerQueue {
                    name: (*name).into(),
                    concurrency: 2,
                })
                .collect(),
            running: 0,
            started_at: now(),
            last_seen_at: now(),
        }
    }

    fn assess(counts: &Counts, workers: &[WorkerInfo], fill: Option<StoreFill>) -> Health {
        let inputs = HealthInputs {
            counts,
            workers,
            fill,
            now: now(),
        };
        Health::assess(&inputs, &HealthThresholds::default())
    }

    #[test]
    fn nothing_found_is_healthy() {
        let mut counts = Counts::default();
        counts.add("default", JobState::Available, 2);
        counts.note_oldest_available("default", now() - chrono::Duration::seconds(10));
        counts.add("idle", JobState::Completed, 5);
        let fill = StoreFill {
            unfinished: 2,
            capacity: 100,
        };
        assert_eq!(
            assess(&counts, &[worker(&["default"])], Some(fill)),
            Health::healthy()
        );
        assert_eq!(assess(&Counts::default(), &[], None), Health::healthy());
    }

    #[test]
    fn fill_degrades_at_75_and_fails_at_95_percent() {
        let counts = Counts::default();
        let at = |unfinished| {
            assess(
                &counts,
                &[],
                Some(StoreFill {
                    unfinished,
                    capacity: 100,
                }),
            )
        };
        assert_eq!(at(74).status, HealthStatus::Healthy);
        assert_eq!(at(75).status, HealthStatus::Degraded);
        assert_eq!(
            at(75).reasons,
            ["the store is 75 % full (75 of 100 unfinished jobs it can hold)"]
        );
        assert_eq!(at(94).status, HealthStatus::Degraded);
        assert_eq!(at(95).status, HealthStatus::Unhealthy);
        assert_eq!(at(120).status, HealthStatus::Unhealthy);
        let empty_and_closed = StoreFill {
            unfinished: 0,
            capacity: 0,
        };
        assert_eq!(
            assess(&counts, &[], Some(empty_and_closed)).status,
            HealthStatus::Unhealthy
        );
    }

    #[test]
    fn a_queue_waiting_past_the_threshold_is_degraded() {
        let mut counts = Counts::default();
        counts.add("mail", JobState::Available, 1);
        counts.note_oldest_available("mail", now() - chrono::Duration::seconds(301));
        let health = assess(&counts, &[worker(&["mail"])], None);
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(
            health.reasons,
            [
                "queue `mail`: its oldest available job has waited 301 s, longer than the 300 s allowed"
            ]
        );
        let mut just = Counts::default();
        just.add("mail", JobState::Available, 1);
        just.note_oldest_available("mail", now() - chrono::Duration::seconds(300));
        assert_eq!(
            assess(&just, &[worker(&["mail"])], None).status,
            HealthStatus::Healthy
        );
    }

    #[test]
    fn available_jobs_no_worker_serves_are_degraded() {
        let mut counts = Counts::default();
        counts.add("mail", JobState::Available, 1);
        counts.add("reports", JobState::Scheduled, 4);
        let health = assess(&counts, &[worker(&["default"])], None);
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(
            health.reasons,
            ["queue `mail` has 1 available job, but no live worker serves it"]
        );
    }

    #[test]
    fn the_worst_status_wins_and_leads_the_reasons() {
        let mut counts = Counts::default();
        counts.add("mail", JobState::Available, 2);
        let fill = StoreFill {
            unfinished: 99,
            capacity: 100,
        };
        let health = assess(&counts, &[], Some(fill));
        assert_eq!(health.status, HealthStatus::Unhealthy);
        assert_eq!(health.reasons.len(), 2);
        assert!(health.reasons[0].starts_with("the store is 99 % full"));
        assert!(health.reasons[1].contains("no live worker"));
    }

    #[test]
    fn thresholds_are_configurable() {
        let mut counts = Counts::default();
        counts.add("mail", JobState::Available, 1);
        counts.note_oldest_available("mail", now() - chrono::Duration::seconds(31));
        let inputs = HealthInputs {
            counts: &counts,
            workers: &[worker(&["mail"])],
            fill: Some(StoreFill {
                unfinished: 50,
                capacity: 100,
            }),
            now: now(),
        };
        let strict = HealthThresholds {
            max_queue_lag: Duration::from_secs(30),
            degraded_fill: 0.5,
            unhealthy_fill: 0.9,
        };
        let health = Health::assess(&inputs, &strict);
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(health.reasons.len(), 2, "{health:?}");
        assert_eq!(
            Health::assess(&inputs, &HealthThresholds::default()),
            Health::healthy()
        );
    }
}
