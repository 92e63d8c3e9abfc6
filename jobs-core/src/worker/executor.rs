//! The slots of a queue: `concurrency` long-lived tasks, each taking the
//! next claimed job from the queue's buffer, running it, and handing how it
//! ended to the completer. Long-lived slots instead of a task per job keep
//! the per-job cost to the run itself: no task to spawn, schedule and free.
//!
//! Each run is isolated as a task would be: a panic is caught and becomes a
//! failed attempt, a timeout cancels the run, and at shutdown past the
//! timeout the run is interrupted and its job given back.

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backend::{FetchedJob, JobTransition, RunningAttempt, after};
use crate::registry::{Invocation, JobDefinition, JobFuture};
use crate::worker::WorkerShared;
use crate::worker::fetch_plan::FetchPlan;
use crate::worker::idle_watch::SlotClaims;
use crate::worker::metrics::JobCounters;
use crate::worker::outcome::{self, Outcome};
use crate::worker::panic::{CatchPanic, Panic, catch_panic, message_of};
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
///
/// Every claimed job gets an outcome, whatever happens: should anything
/// between the run and its outcome panic (the run's own panics are caught
/// and counted as failed attempts in [`run`]), the job is released and the
/// slot carries on, instead of dying and leaving the job `Running` under
/// leases the heartbeat would renew for ever.
pub(crate) async fn run_slot(
    shared: Arc<WorkerShared>,
    queue: Arc<LocalQueue>,
    plan: Arc<FetchPlan>,
    slot: usize,
    completions: mpsc::UnboundedSender<JobTransition>,
    interrupt: CancellationToken,
) {
    let mut claims = SlotClaims {
        shared: &shared,
        queue: &queue,
        plan: &plan,
        completions: &completions,
        slot,
        wakeup: shared.backend.job_wakeup(&queue.name),
    };
    // When the last run ended: if the next job is buffered already, that
    // is when its run starts too (one clock read a run instead of two).
    let mut ended: Option<Instant> = None;
    loop {
        let next = ended
            .take()
            .and_then(|at| queue.take_buffered().map(|job| (job, at)));
        let (job, started) = match next {
            Some(taken) => taken,
            None => match claims.take().await {
                Some(job) => (job, Instant::now()),
                None => break,
            },
        };
        let (transition, end) = run_taken(&shared, &queue, slot, job, started, &interrupt).await;
        // the completer outlives every slot, so a send cannot fail
        let _ = completions.send(transition);
        ended = Some(end);
    }
}

/// Runs `job`, just taken from `queue` by `slot`, and frees the slot:
/// the one way a claimed job is run, by the slots and by
/// [`Worker::drain`](crate::Worker::drain) alike. `started` is when the
/// slot took it. Returns what to record, and when the run ended.
pub(crate) async fn run_taken(
    shared: &WorkerShared,
    queue: &LocalQueue,
    slot: usize,
    job: FetchedJob,
    started: Instant,
    interrupt: &CancellationToken,
) -> (JobTransition, Instant) {
    let run = RunningAttempt {
        id: job.id,
        attempt: job.attempt,
    };
    let Some((definition, counters)) = queue.kind(&job.kind) else {
        // the producer only buffers known kinds
        queue.slot_freed();
        return (Outcome::Release.into_transition(run), started);
    };
    let execution = execute(shared, queue, slot, definition, job, counters, interrupt);
    let transition = match AssertUnwindSafe(execution).catch_unwind().await {
        Ok(transition) => transition,
        Err(payload) => {
            tracing::error!(
                job.id = run.id.get(),
                panic = %message_of(payload),
                "the worker failed while ending a run; the job goes back to its queue"
            );
            Outcome::Release.into_transition(run)
        }
    };
    let ended = Instant::now();
    queue.end_run(slot, ended.saturating_duration_since(started));
    (transition, ended)
}

/// Runs `job` to its end and returns what to record.
async fn execute(
    shared: &WorkerShared,
    queue: &LocalQueue,
    slot: usize,
    definition: &'static JobDefinition,
    job: FetchedJob,
    counters: &JobCounters,
    interrupt: &CancellationToken,
) -> JobTransition {
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
    // a run that waits gives the watch back, so the queue stays heard
    let waiting = || queue.watch.release(slot);
    let running = run(shared, definition, &job, context, token, interrupt, waiting);
    let now = || shared.clock.now();
    // A span no subscriber records (none is set, or its filter leaves the
    // span out) is not entered: with tracing's `log` fallback, which sqlx
    // turns on, every entry and exit of a disabled span still asks the
    // `log` crate whether to write it: about 450 instructions a job, 7 %
    // of a no-op job's enqueue and run.
    let outcome = if span.is_disabled() {
        let end = running.await;
        outcome_of(definition, &job, end, counters, now)
    } else {
        let end = running.instrument(span.clone()).await;
        span.in_scope(|| outcome_of(definition, &job, end, counters, now))
    };
    outcome.into_transition(RunningAttempt {
        id: job.id,
        attempt: job.attempt,
    })
}

async fn run(
    shared: &WorkerShared,
    definition: &'static JobDefinition,
    job: &FetchedJob,
    context: JobContext,
    token: CancellationToken,
    interrupt: &CancellationToken,
    waiting: impl FnOnce(),
) -> RunEnd {
    tracing::debug!("job started");
    let args = match definition.args_for(job.version, &job.args) {
        Ok(args) => args,
        Err(error) => return RunEnd::Returned(Err(error)),
    };
    let invocation = Invocation {
        args,
        states: Arc::clone(&shared.states),
        context,
    };
    // A panic in the job ends this future with an error; the worker lives.
    let mut run = catch_panic((definition.run)(invocation));
    // Most runs end at their first poll: they need no timer, no waiter on
    // the interrupt, and no room for those in this future, which every run
    // builds and moves. The others wait in a future of their own.
    let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut run).poll(cx))).await;
    if let Poll::Ready(result) = first {
        return end_of(result);
    }
    waiting();
    Box::pin(wait_for(shared, definition, run, token, interrupt)).await
}

/// The rest of a run that did not end at its first poll: until it ends,
/// times out, or is interrupted by a shutdown past its budget.
async fn wait_for(
    shared: &WorkerShared,
    definition: &'static JobDefinition,
    mut run: CatchPanic<JobFuture>,
    token: CancellationToken,
    interrupt: &CancellationToken,
) -> RunEnd {
    let timeout = async {
        match definition.timeout {
            Some(limit) => {
                tokio::time::sleep(limit).await;
                limit
            }
            None => std::future::pending().await,
        }
    };
    // Biased, run first: a run that ended counts as ended even if its time
    // ran out meanwhile.
    tokio::select! {
        biased;
        result = &mut run => return end_of(result),
        limit = timeout => {
            // dropping the future stops the run; the token tells anything
            // the job spawned
            token.cancel();
            return RunEnd::TimedOut(limit);
        }
        () = interrupt.cancelled() => {}
    }
    // Shutdown is near the end of its budget: ask the job to stop, give it
    // a moment to wind down, then put it back untouched.
    token.cancel();
    match tokio::time::timeout(shared.config.cancel_grace(), &mut run).await {
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
    clock: impl FnOnce() -> DateTime<Utc>,
) -> Outcome {
    if let RunEnd::Returned(Ok(())) = end {
        // the common case reads no clock
        counters.succeeded.increment(1);
        tracing::info!("job succeeded");
        return Outcome::Completed;
    }
    // the worker's clock, so that a test's `ManualClock` decides when a
    // retry or a snooze is due
    let now = clock();
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
                    at: after(now, delay),
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
    let outcome = outcome::failure(
        &definition.retry,
        job.attempt,
        job.max_attempts,
        error(failure.clone()),
        now,
    );
    match &outcome {
        Outcome::Dead { .. } => {
            counters.dead.increment(1);
            tracing::error!(error = %failure, attempts = job.attempt, "job failed on its last attempt; it is dead");
        }
        Outcome::Retry { at, .. } => {
            counters.retried.increment(1);
            tracing::warn!(error = %failure, retry_at = %at, "job failed; it will be retried");
        }
        _ => {}
    }
    outcome
}
