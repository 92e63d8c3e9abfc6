//! `Worker::drain`: runs every due job in the calling task, for tests.
//!
//! It claims and records jobs through the backend as the producer and the
//! completer do, and runs each through the slots' own path
//! ([`executor::run_taken`]), so a drained job meets every rule a started
//! worker applies: argument decoding, injection, panics, timeouts and the
//! outcome of each way a run can end.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};

use crate::backend::{JobCompleteManyParams, JobTransition, RunningAttempt};
use crate::registry::JobDefinition;
use crate::worker::executor;
use crate::worker::fetch_plan::FetchPlan;
use crate::worker::outcome::Outcome;
use crate::worker::queue::LocalQueue;
use crate::worker::{Worker, WorkerShared};
use crate::{Error, JobState, Result};

/// What [`Worker::drain`] did: how many attempts ended each way.
///
/// A job that failed once and then succeeded within one drain counts once
/// in `retried` and once in `completed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Attempts that succeeded.
    pub completed: u64,
    /// Failed attempts with attempts left: the job is `Retryable`.
    pub retried: u64,
    /// Attempts after which the job is `Dead` (its last failed attempt, or
    /// a permanent error).
    pub dead: u64,
    /// Runs in which the job cancelled itself.
    pub cancelled: u64,
    /// Runs that snoozed.
    pub snoozed: u64,
}

impl DrainReport {
    fn count(&mut self, state: JobState) {
        let counter = match state {
            JobState::Completed => &mut self.completed,
            JobState::Retryable => &mut self.retried,
            JobState::Dead => &mut self.dead,
            JobState::Cancelled => &mut self.cancelled,
            JobState::Scheduled => &mut self.snoozed,
            // given back unrun: not an attempt
            JobState::Available | JobState::Running | JobState::Awaiting => return,
        };
        *counter += 1;
    }
}

impl Worker {
    /// Runs, in this task, every job that is due on this worker's queues
    /// (of the kinds it runs), and the jobs those enqueue, until none is
    /// due; then returns what happened. A worker built without
    /// [`queue`](crate::WorkerBuilder::queue) drains the queues its jobs
    /// declare as well as `"default"`. For tests: it starts no background
    /// task (no heartbeat, no cron scheduler, no maintenance).
    ///
    /// Jobs run one at a time, in the order the backend hands them out
    /// (priority, then due time, then id), queue after queue in the order
    /// they were given, until a pass over every queue finds nothing due.
    /// "Due" is the backend's clock: give the backend and the worker one
    /// [`ManualClock`](crate::ManualClock) and a retry or a scheduled job
    /// waits until the test moves it; with the system clock, a job retried
    /// or snoozed for a moment may run again within the same drain. A job
    /// that waits for another job to finish waits for ever here, and one
    /// that always enqueues another keeps the drain going.
    ///
    /// Flow-control limits hold as on a started worker: jobs run one at a
    /// time, so `concurrency` never binds, and a job that `rate_limit`
    /// holds back is run once its window has room (the drain waits for it,
    /// by the backend's clock: with a `ManualClock`, move it).
    ///
    /// Fails at once, running nothing, when the backend's check fails, and
    /// stops at the first backend error.
    ///
    /// ```rust,standalone_crate
    /// use jobs_core::{job, Client, DrainReport, JobError, Worker};
    /// use jobs_memory::MemoryBackend;
    ///
    /// #[job]
    /// async fn charge(order: u64) -> Result<(), JobError> {
    ///     if order == 0 { return Err(JobError::permanent("no such order")) }
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let backend = MemoryBackend::new();
    /// let client = Client::new(backend.clone());
    /// charge::enqueue(&client, 7).await?;
    /// charge::enqueue(&client, 0).await?;
    ///
    /// let report = Worker::builder(backend).build()?.drain().await?;
    /// assert_eq!(report, DrainReport { completed: 1, dead: 1, ..DrainReport::default() });
    /// # Ok(()) }
    /// ```
    pub async fn drain(self) -> Result<DrainReport> {
        let shared = self.inner;
        shared.backend.check().await.map_err(Error::Backend)?;
        let extra = if self.queues_given {
            Vec::new()
        } else {
            declared_queues(&shared)
        };
        // never fired: nothing shuts a drain down from outside
        let interrupt = CancellationToken::new();
        let mut report = DrainReport::default();
        let queues: Vec<(&LocalQueue, FetchPlan)> = shared
            .queues
            .iter()
            .chain(&extra)
            .map(|queue| (&**queue, FetchPlan::new(&shared, queue)))
            .collect();
        loop {
            let mut ran = false;
            let mut held_until: Option<DateTime<Utc>> = None;
            for (queue, plan) in &queues {
                loop {
                    match run_one(&shared, queue, plan, &interrupt).await? {
                        Step::Ran(transition) => {
                            report.count(transition.state);
                            ran = true;
                            // a backend that never waits would otherwise keep the
                            // test's other tasks (and its timeouts) from running
                            tokio::task::yield_now().await;
                        }
                        Step::Idle { held_until: held } => {
                            held_until = match (held_until, held) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                            break;
                        }
                    }
                }
            }
            if !ran {
                let Some(held_until) = held_until else {
                    return Ok(report);
                };
                // due jobs a rate limit holds back: wait for its window
                let wait = (held_until - shared.clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .max(std::time::Duration::from_millis(1));
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The queues the worker's jobs declare, beyond the ones it serves: a
/// worker built without naming queues drains its jobs wherever they are
/// enqueued, as a test of `#[job(queue = "mail")]` expects.
fn declared_queues(shared: &WorkerShared) -> Vec<Arc<LocalQueue>> {
    let Some(first) = shared.queues.first() else {
        return Vec::new();
    };
    let jobs: HashMap<&'static str, &'static JobDefinition> = shared
        .kinds
        .iter()
        .filter_map(|kind| first.kind(kind).map(|(definition, _)| (*kind, definition)))
        .collect();
    let mut names: Vec<&'static str> = jobs
        .values()
        .map(|definition| definition.queue)
        .filter(|name| shared.queues.iter().all(|queue| &*queue.name != *name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            Arc::new(LocalQueue::new(
                name,
                1,
                &jobs,
                shared.config.fetch_batch,
                shared.config.prefetch_horizon,
            ))
        })
        .collect()
}

/// What one step of a drain did.
enum Step {
    /// Ran a job, which ended this way.
    Ran(JobTransition),
    /// Found nothing to run now; due jobs a rate limit holds back may start
    /// at `held_until`.
    Idle { held_until: Option<DateTime<Utc>> },
}

/// Claims the next due job of `queue`, runs it as slot 0 would and records
/// its outcome.
async fn run_one(
    shared: &WorkerShared,
    queue: &LocalQueue,
    plan: &FetchPlan,
    interrupt: &CancellationToken,
) -> Result<Step> {
    let batch = match plan.fetch(shared, &queue.name, 1).await {
        Ok(batch) => batch,
        Err(partial) => {
            // a job claimed before the failing fetch goes back unrun (with
            // a limit of one, the plan stops fetching once it has one, so
            // this is empty in practice)
            let transitions: Vec<JobTransition> = partial
                .claimed
                .jobs
                .iter()
                .map(|job| {
                    let run = RunningAttempt {
                        id: job.id,
                        attempt: job.attempt,
                    };
                    Outcome::Release.into_transition(run)
                })
                .collect();
            if !transitions.is_empty() {
                let _ = shared
                    .backend
                    .job_complete_many(JobCompleteManyParams { transitions })
                    .await;
            }
            return Err(Error::Backend(partial.error));
        }
    };
    let held_until = batch.held_until;
    queue.push(batch.jobs);
    let Some(job) = queue.try_take() else {
        return Ok(Step::Idle { held_until });
    };
    let id = job.id;
    let started = std::time::Instant::now();
    let (transition, _ended) = executor::run_taken(shared, queue, 0, job, started, interrupt).await;
    let params = JobCompleteManyParams {
        transitions: vec![transition.clone()],
    };
    shared
        .backend
        .job_complete_many(params)
        .await
        .map_err(Error::Backend)?;
    if transition.state == JobState::Available {
        // given back unrun (a kind not asked for, or a fault while ending
        // the run): claiming it again would loop for ever
        return Err(Error::backend(format!(
            "job {id} on queue `{}` could not be run; it is back in its queue",
            queue.name
        )));
    }
    Ok(Step::Ran(transition))
}
