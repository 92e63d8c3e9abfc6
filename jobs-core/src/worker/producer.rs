//! One per served queue: claims batches of due jobs sized to the free
//! slots, and hands each to an executor task.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::backend::{Completion, FetchRequest, FetchedJob, Outcome};
use crate::worker::WorkerShared;
use crate::worker::backoff::ErrorBackoff;
use crate::worker::executor;
use crate::worker::metrics::QueueMetrics;

/// What a producer needs besides the shared worker state.
pub(crate) struct Producer {
    pub(crate) shared: Arc<WorkerShared>,
    pub(crate) queue: Arc<str>,
    pub(crate) concurrency: usize,
    pub(crate) completions: mpsc::UnboundedSender<Completion>,
    pub(crate) executors: TaskTracker,
    /// Stop fetching.
    pub(crate) stop: CancellationToken,
    /// Shutdown ran past its timeout: interrupt running jobs.
    pub(crate) interrupt: CancellationToken,
}

impl Producer {
    /// Runs until `stop` fires. Jobs it started keep running in
    /// `executors`.
    pub(crate) async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let metrics = QueueMetrics::default();
        let mut wakeup = self.shared.backend.job_wakeup(&self.queue);
        let mut backoff = ErrorBackoff::default();
        loop {
            let first = tokio::select! {
                () = self.stop.cancelled() => return,
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_closed) => return,
                },
            };
            let limit = (slots.available_permits() + 1).min(self.shared.config.fetch_batch);
            wakeup.mark_seen();
            let request = FetchRequest {
                queue: &self.queue,
                kinds: &self.shared.kinds,
                limit,
                worker_id: &self.shared.id,
                lease: self.shared.config.lease,
            };
            let batch = match self.shared.backend.job_fetch(request).await {
                Ok(batch) => {
                    backoff.succeeded();
                    batch
                }
                Err(error) => {
                    drop(first);
                    let pause = backoff.failed();
                    tracing::warn!(queue = %self.queue, %error, ?pause, "could not fetch jobs; retrying");
                    if self.sleep_or_stop(pause).await {
                        return;
                    }
                    continue;
                }
            };
            let claimed = batch.jobs.len();
            let mut first = Some(first);
            for job in batch.jobs {
                // Only this loop takes permits, so the free ones counted
                // above are still free.
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => match Arc::clone(&slots).try_acquire_owned() {
                        Ok(permit) => permit,
                        Err(_) => {
                            self.give_back(job);
                            continue;
                        }
                    },
                };
                self.start(job, permit, &metrics);
            }
            drop(first);
            if claimed == limit {
                continue; // more may be waiting: fetch again as soon as a slot is free
            }
            let idle = self.shared.config.poll_interval;
            let wait = match batch.next_due_at {
                Some(due) => (due - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(idle),
                None => idle,
            };
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = wakeup.wait(wait) => {}
            }
        }
    }

    fn start(&self, job: FetchedJob, permit: OwnedSemaphorePermit, metrics: &QueueMetrics) {
        let Some(&definition) = self.shared.jobs.get(job.kind.as_str()) else {
            tracing::error!(job.id = job.id.get(), job.kind = %job.kind, "the backend returned a job kind this worker did not ask for");
            self.give_back(job);
            return;
        };
        let counters = metrics.counters(&self.queue, definition.name);
        let shared = Arc::clone(&self.shared);
        let completions = self.completions.clone();
        let interrupt = self.interrupt.clone();
        self.executors.spawn(async move {
            let completion =
                executor::execute(&shared, definition, job, &counters, &interrupt).await;
            // the completer outlives every executor, so a send cannot fail
            let _ = completions.send(completion);
            drop(permit);
        });
    }

    /// Returns a claimed job untouched.
    fn give_back(&self, job: FetchedJob) {
        let _ = self.completions.send(Completion {
            id: job.id,
            attempt: job.attempt,
            outcome: Outcome::Release,
        });
    }

    /// Sleeps; returns `true` if `stop` fired first.
    async fn sleep_or_stop(&self, pause: Duration) -> bool {
        tokio::select! {
            () = self.stop.cancelled() => true,
            () = tokio::time::sleep(pause) => false,
        }
    }
}
