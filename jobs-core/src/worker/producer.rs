//! One per served queue: claims batches of due jobs into the queue's local
//! buffer, for its slots to run.
//!
//! A batch fills the free slots plus the buffer's target: as many jobs as
//! the slots start within the prefetch horizon at the run time seen so far
//! (none until runs were timed, and none for jobs slower than the horizon),
//! so short jobs are claimed a thousand at a time while long ones are
//! claimed only when a slot is free. A full batch means more may be due:
//! the next fetch follows as soon as the buffer is half empty.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backend::{FetchedJob, JobTransition, RunningAttempt};
use crate::worker::WorkerShared;
use crate::worker::backoff::ErrorBackoff;
use crate::worker::fetch_plan::{FetchPlan, PartialFetch};
use crate::worker::outcome::Outcome;
use crate::worker::queue::{LocalQueue, Pace};

/// The first pause before looking again at a job due already but not
/// claimed; it doubles (up to the poll interval) while looking finds none.
const MIN_OVERDUE_PAUSE: Duration = Duration::from_millis(1);

/// What a producer needs besides the shared worker state.
pub(crate) struct Producer {
    pub(crate) shared: Arc<WorkerShared>,
    pub(crate) queue: Arc<LocalQueue>,
    /// How the queue's jobs are claimed; its idle slots claim with it too.
    pub(crate) plan: Arc<FetchPlan>,
    pub(crate) completions: mpsc::UnboundedSender<JobTransition>,
    /// Stop fetching.
    pub(crate) stop: CancellationToken,
}

impl Producer {
    /// Runs until `stop` fires, then closes the queue and gives its
    /// buffered jobs back. Jobs already in slots keep running.
    pub(crate) async fn run(self) {
        self.fetch_loop().await;
        for job in self.queue.close() {
            give_back(&self.completions, &job);
        }
    }

    async fn fetch_loop(&self) {
        let queue = &self.queue;
        let config = &self.shared.config;
        let mut wakeup = self.shared.backend.job_wakeup(&queue.name);
        let mut backoff = ErrorBackoff::default();
        let mut pace = Pace::default();
        let plan = &*self.plan;
        // how long to wait before looking again at a due time already past
        let mut overdue = MIN_OVERDUE_PAUSE;
        // Made once and kept, because a loop that claims a job at a time
        // waits after every claim: the stop's waiter stays registered, and
        // the timer is moved on (later deadlines without taking the timer
        // driver's lock) instead of being made and cancelled each time.
        let stopped = self.stop.cancelled();
        tokio::pin!(stopped);
        let idle = tokio::time::sleep(config.poll_interval);
        tokio::pin!(idle);
        loop {
            let limit = loop {
                queue.update_pace(&mut pace);
                let wanted = queue.wanted(config.fetch_batch);
                if wanted > 0 {
                    break wanted;
                }
                tokio::select! {
                    () = &mut stopped => return,
                    () = queue.room() => {}
                }
            };
            let turn = queue.claim_turn().await;
            wakeup.mark_seen();
            queue.watch.claiming(wakeup.seen());
            queue.watch.producer_claims();
            let fetched = plan.fetch(&self.shared, &queue.name, limit).await;
            let batch = match fetched {
                Ok(batch) => {
                    backoff.succeeded();
                    queue.watch.resume();
                    batch
                }
                Err(PartialFetch { claimed, error }) => {
                    self.push_known(claimed.jobs);
                    drop(turn);
                    let pause = backoff.failed();
                    tracing::warn!(queue = %queue.name, %error, ?pause, "could not fetch jobs; retrying");
                    if self.sleep_or_stop(pause).await {
                        return;
                    }
                    continue;
                }
            };
            let claimed = batch.jobs.len();
            self.push_known(batch.jobs);
            drop(turn);
            if claimed == limit {
                continue; // more may be waiting: fetch again once there is room
            }
            let poll = config.poll_interval;
            let next_due_at = match (batch.next_due_at, batch.held_until) {
                (Some(due), Some(held)) => Some(due.min(held)),
                (due, held) => due.or(held),
            };
            let until_due = next_due_at.map(|due| (due - Utc::now()).to_std());
            let wait = match until_due {
                Some(Ok(until_due)) => until_due.min(poll),
                // Due already, yet not claimed: it came due just after the
                // claim looked, or another worker holds it. Look again soon,
                // less soon each time that finds nothing.
                Some(Err(_past)) => overdue,
                None => poll,
            };
            overdue = match until_due {
                Some(Err(_past)) if claimed == 0 => (overdue * 2).min(poll),
                _ => MIN_OVERDUE_PAUSE,
            };
            idle.as_mut().reset(tokio::time::Instant::now() + wait);
            let next_look = chrono::Duration::from_std(wait)
                .ok()
                .and_then(|wait| Utc::now().checked_add_signed(wait));
            if let Some(due) = queue.watch.producer_looks_at(next_look) {
                idle.as_mut().reset(instant_at(due));
            }
            loop {
                // an idle slot may hold the watch: then it listens, not this loop
                let listening = !queue.watch.held();
                if listening {
                    wakeup.adopt_seen(queue.watch.handled());
                }
                tokio::select! {
                    () = &mut stopped => return,
                    () = wakeup.signalled(), if listening => {
                        if !queue.watch.held() {
                            break;
                        }
                        // a slot took the watch meanwhile: the signal is its
                    }
                    () = &mut idle => break,
                    // a limited kind's run ended here: its limit may have room
                    () = queue.room(), if plan.is_limited() => break,
                    // a slot's claim saw a job due sooner: look then
                    () = queue.watch.changed() => {
                        if let Some(due) = queue.watch.sooner() {
                            idle.as_mut().reset(instant_at(due));
                        }
                    }
                }
            }
        }
    }

    /// Buffers claimed jobs for the slots.
    fn push_known(&self, jobs: Vec<FetchedJob>) {
        self.queue
            .push(known_only(&self.queue, jobs, &self.completions));
    }

    /// Sleeps; returns `true` if `stop` fired first.
    async fn sleep_or_stop(&self, pause: Duration) -> bool {
        tokio::select! {
            () = self.stop.cancelled() => true,
            () = tokio::time::sleep(pause) => false,
        }
    }
}

/// The instant of the runtime's clock at wall-clock time `at` (now, if
/// `at` has passed).
fn instant_at(at: DateTime<Utc>) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let until = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    now.checked_add(until).unwrap_or(now)
}

/// The jobs of kinds `queue` runs; gives back any other, which the backend
/// should not have returned.
pub(crate) fn known_only(
    queue: &LocalQueue,
    mut jobs: Vec<FetchedJob>,
    completions: &mpsc::UnboundedSender<JobTransition>,
) -> Vec<FetchedJob> {
    jobs.retain(|job| {
        let known = queue.kind(&job.kind).is_some();
        if !known {
            tracing::error!(job.id = job.id.get(), job.kind = %job.kind, "the backend returned a job kind this worker did not ask for");
            give_back(completions, job);
        }
        known
    });
    jobs
}

/// Returns a claimed job untouched.
pub(crate) fn give_back(completions: &mpsc::UnboundedSender<JobTransition>, job: &FetchedJob) {
    let run = RunningAttempt {
        id: job.id,
        attempt: job.attempt,
    };
    let _ = completions.send(Outcome::Release.into_transition(run));
}
