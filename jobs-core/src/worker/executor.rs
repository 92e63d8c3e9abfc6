//! The slots of a queue: `concurrency` long-lived tasks, each taking the
//! next claimed job from the queue's buffer, running it, and handing how it
//! ended to the completer. Long-lived slots instead of a task per job keep
//! the per-job cost to the run itself: no task to spawn, schedule and free.
//!
//! Each run is isolated as a task would be: a panic is caught and becomes a
//! failed attempt, a timeout cancels the run, and at shutdown past the
//! timeout the run is interrupted and its job given back.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backend::{Completion, FetchedJob, Outcome};
use crate::registry::{Invocation, JobDefinition};
use crate::worker::WorkerShared;
use crate::worker::metrics::JobCounters;
use crate::worker::panic::{Panic, catch_panic};
use crate::worker::queue::LocalQueue;
use crate::{AttemptError, JobContext, JobError, JobErrorKind};

/// How a run ended, before it is turned into an outcome.
enum RunEnd {
    Returned(Result<(), JobError>),
    Panicked(String),
    TimedOut(Duration),
    /// Shut down past the shutdown timeout: not the job's fault.
    Interrupted,
}

/// One slot of `queue`: runs buffered jobs one after another until the
/// queue closes.
pub(crate) async fn run_slot(
    shared: Arc<WorkerShared>,
    queue: Arc<LocalQueue>,
    slot: usize,
    completions: mpsc::UnboundedSender<Completion>,
    interrupt: CancellationToken,
) {
    while let Some(job) = queue.take().await {
        let Some((definition, counters)) = queue.kind(&job.kind) else {
            // the producer only buffers known kinds
            let _ = completions.send(Completion {
                id: job.id,
                attempt: job.attempt,
                outcome: Outcome::Release,
            });
            queue.slot_freed();
            continue;
        };
        let started = Instant::now();
        let completion =
            execute(&shared, &queue, slot, definition, job, counters, &interrupt).await;
        // the completer outlives every slot, so a send cannot fail
        let _ = completions.send(completion);
        queue.end_run(slot, started.elapsed());
    }
}

/// Runs `job` to its end and returns the completion to record.
async fn execute(
    shared: &WorkerShared,
    queue: &LocalQueue,
    slot: usize,
    definition: &'static JobDefinition,
    job: FetchedJob,
    counters: &JobCounters,
    interrupt: &CancellationToken,
) -> Completion {
    let token = CancellationToken::new();
    let context = JobContext::with_names(
        job.id,
        Cow::Borrowed(definition.name),
        Arc::clone(&queue.name),
        job.attempt,
        job.max_attempts,
        token.clone(),
    );
    queue.start_run(slot, &context);
    let span = tracing::info_span!(
        "job",
        job.id = job.id.get(),
        job.kind = definition.name,
        job.queue = %queue.name,
        job.attempt = job.attempt,
    );
    counters.started.increment(1);
    let end = run(shared, definition, &job, context, token, interrupt)
        .instrument(span.clone())
        .await;
    let outcome = span.in_scope(|| outcome_of(definition, &job, end, counters));
    Completion {
        id: job.id,
        attempt: job.attempt,
        outcome,
    }
}

async fn run(
    shared: &WorkerShared,
    definition: &'static JobDefinition,
    job: &FetchedJob,
    context: JobContext,
    token: CancellationToken,
    interrupt: &CancellationToken,
) -> RunEnd {
    tracing::debug!("job started");
    let invocation = Invocation {
        args: Arc::from(job.args.as_str()),
        states: Arc::clone(&shared.states),
        context,
    };
    // A panic in the job ends this future with an error; the worker lives.
    let run = catch_panic((definition.run)(invocation));
    tokio::pin!(run);
    let timeout = async {
        match definition.timeout {
            Some(limit) => {
                tokio::time::sleep(limit).await;
                limit
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = &mut run => return end_of(result),
        limit = timeout => {
            // dropping the future stops the run; the token tells anything
            // the job spawned
            token.cancel();
            return RunEnd::TimedOut(limit);
        }
        () = interrupt.cancelled() => {}
    }
    // Shutdown ran past its timeout: ask the job to stop, give it a moment to
    // wind down, then put it back untouched.
    token.cancel();
    match tokio::time::timeout(shared.config.cancel_grace, &mut run).await {
        Ok(Ok(Ok(()))) => RunEnd::Returned(Ok(())),
        _ => RunEnd::Interrupted,
    }
}

fn end_of(result: Result<Result<(), JobError>, Panic>) -> RunEnd {
    match result {
        Ok(returned) => RunEnd::Returned(returned),
        // "panicked at src/jobs.rs:12:5: the message"
        Err(panic) => RunEnd::Panicked(panic.to_string()),
    }
}

fn outcome_of(
    definition: &JobDefinition,
    job: &FetchedJob,
    end: RunEnd,
    counters: &JobCounters,
) -> Outcome {
    if let RunEnd::Returned(Ok(())) = end {
        // the common case reads no clock
        counters.succeeded.increment(1);
        tracing::info!("job succeeded");
        return Outcome::Completed;
    }
    let now = Utc::now();
    let error = |message: String| AttemptError {
        attempt: job.attempt,
        message,
        at: now,
    };
    let failure = match end {
        RunEnd::Returned(Ok(())) => return Outcome::Completed,
        RunEnd::Interrupted => {
            tracing::info!("job interrupted by shutdown; it returns to the queue");
            return Outcome::Release;
        }
        RunEnd::Returned(Err(job_error)) => match job_error.kind() {
            JobErrorKind::Snooze(delay) => {
                tracing::info!(?delay, "job snoozed");
                return Outcome::Snooze {
                    at: now + chrono_delay(delay),
                };
            }
            JobErrorKind::Cancel => {
                tracing::info!(reason = job_error.message(), "job cancelled itself");
                return Outcome::Cancelled {
                    error: error(job_error.message().to_owned()),
                };
            }
            JobErrorKind::Permanent => {
                counters.failed.increment(1);
                counters.dead.increment(1);
                tracing::error!(
                    error = job_error.message(),
                    "job failed permanently; it is dead"
                );
                return Outcome::Dead {
                    error: error(job_error.message().to_owned()),
                };
            }
            _ => job_error.message().to_owned(),
        },
        RunEnd::Panicked(message) => message,
        RunEnd::TimedOut(limit) => format!("timed out after {limit:?}"),
    };
    counters.failed.increment(1);
    if job.attempt >= job.max_attempts {
        counters.dead.increment(1);
        tracing::error!(error = %failure, attempts = job.attempt, "job failed on its last attempt; it is dead");
        return Outcome::Dead {
            error: error(failure),
        };
    }
    let delay = definition.retry.delay(job.attempt);
    counters.retried.increment(1);
    tracing::warn!(error = %failure, ?delay, "job failed; it will be retried");
    Outcome::Retry {
        at: now + chrono_delay(delay),
        error: error(failure),
    }
}

fn chrono_delay(delay: Duration) -> chrono::Duration {
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
}
