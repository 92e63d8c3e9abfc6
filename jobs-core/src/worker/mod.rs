//! The worker: fetches jobs from the queues it serves, runs them with
//! per-queue concurrency limits, reports outcomes, and (on the leader) runs
//! the cron scheduler and backend maintenance.
//!
//! Inside, each concern is one task in its own file: a producer per queue
//! claims batches of jobs into the queue's local buffer (`queue.rs`), the
//! queue's slots (`executor.rs`) run them (while the queue is idle, one of
//! its idle slots listens for new jobs and claims them itself:
//! `idle_watch.rs`), the completer writes outcomes in
//! batches, the heartbeat renews leases, the leader task holds the
//! leadership that the cron scheduler and the maintenance task need.

mod backoff;
mod builder;
mod completer;
pub mod config;
mod drain;
mod executor;
mod fetch_plan;
mod heartbeat;
mod idle_watch;
mod leader;
mod maintenance;
pub(crate) mod metrics;
pub(crate) mod outcome;
mod panic;
mod producer;
mod queue;
pub(crate) mod scheduler;
pub(crate) mod shared_states;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::backoff::ErrorBackoff;
pub use self::builder::WorkerBuilder;
use self::config::WorkerConfig;
pub use self::drain::DrainReport;
use self::fetch_plan::FetchPlan;
use self::producer::Producer;
use self::queue::LocalQueue;
use self::shared_states::SharedStates;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::registry::{JobDefinition, RecurringDefinition};
use crate::{Error, Result};

/// Runs jobs. Build one with [`Worker::builder`], then [`start`](Worker::start)
/// it in the background or [`run_until`](Worker::run_until) a signal.
pub struct Worker {
    inner: Arc<WorkerShared>,
    queues: Vec<(String, usize)>,
    /// Whether the builder named the queues (else: the default queue).
    queues_given: bool,
}

/// What every task of one worker shares.
pub(crate) struct WorkerShared {
    pub(crate) id: String,
    /// The host this worker runs on, as `Client::workers` reports it.
    pub(crate) hostname: String,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) states: Arc<SharedStates>,
    pub(crate) kinds: Vec<&'static str>,
    /// The version of each of `kinds`, at the same index: the newest a
    /// fetch may claim.
    pub(crate) versions: Vec<u32>,
    pub(crate) schedules: Vec<&'static RecurringDefinition>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: WorkerConfig,
    /// The served queues, in the order given.
    pub(crate) queues: Vec<Arc<LocalQueue>>,
}

impl WorkerShared {
    /// Jobs running in slots now.
    fn running(&self) -> usize {
        self.queues.iter().map(|queue| queue.busy()).sum()
    }
}

impl Worker {
    /// Starts configuring a worker on `backend`.
    pub fn builder<B: Backend>(backend: B) -> WorkerBuilder {
        WorkerBuilder::new(Arc::new(backend))
    }

    /// Starts configuring a worker on a shared backend.
    pub fn builder_from_arc(backend: Arc<dyn Backend>) -> WorkerBuilder {
        WorkerBuilder::new(backend)
    }

    pub(crate) fn from_parts(
        backend: Arc<dyn Backend>,
        states: SharedStates,
        queues: Vec<(String, usize)>,
        jobs: HashMap<&'static str, &'static JobDefinition>,
        schedules: Vec<&'static RecurringDefinition>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
    ) -> Self {
        let mut kinds: Vec<&'static str> = jobs.keys().copied().collect();
        kinds.sort_unstable();
        let versions = kinds
            .iter()
            .map(|kind| jobs.get(kind).map_or(1, |job| job.version))
            .collect();
        let hostname = hostname();
        let id = format!(
            "{}-{}-{:08x}",
            hostname,
            std::process::id(),
            fastrand::u32(..)
        );
        let local_queues = queues
            .iter()
            .map(|(name, concurrency)| {
                Arc::new(LocalQueue::new(
                    name,
                    *concurrency,
                    &jobs,
                    config.fetch_batch,
                    config.prefetch_horizon,
                ))
            })
            .collect();
        let inner = Arc::new(WorkerShared {
            id,
            hostname,
            backend,
            states: Arc::new(states),
            kinds,
            versions,
            schedules,
            clock,
            config,
            queues: local_queues,
        });
        Self {
            inner,
            queues,
            queues_given: false,
        }
    }

    /// This worker's id, as recorded in leases and logs.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The job kinds this worker runs, sorted.
    pub fn kinds(&self) -> &[&'static str] {
        &self.inner.kinds
    }

    /// Starts the worker on the current tokio runtime and returns at once.
    ///
    /// The worker runs nothing until the backend's check passes; while it
    /// fails (a database that is down, a schema newer than this binary
    /// knows) it logs the reason and tries again with a growing pause.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, like `tokio::spawn`.
    pub fn start(self) -> WorkerHandle {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(self.inner, stop.clone()));
        WorkerHandle {
            stop,
            task: Some(task),
        }
    }

    /// Runs until `signal` completes (for example `jobs_core::shutdown_signal()`,
    /// SIGINT or SIGTERM, or `tokio::signal::ctrl_c()`),
    /// then shuts down gracefully. Fails at once, running nothing, when the
    /// backend's check fails (for PostgreSQL: a schema newer than this
    /// binary knows, or no schema at all).
    pub async fn run_until<F: Future>(self, signal: F) -> Result<()> {
        self.inner.backend.check().await.map_err(Error::Backend)?;
        let handle = self.start();
        signal.await;
        handle.shutdown().await;
        Ok(())
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.inner.id)
            .field("queues", &self.queues)
            .field("kinds", &self.inner.kinds)
            .finish_non_exhaustive()
    }
}

/// A started worker. [`shutdown`](WorkerHandle::shutdown) stops it
/// gracefully; dropping the handle stops it too, without waiting.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops fetching, lets running jobs finish within the shutdown timeout,
    /// then cancels the rest and returns them to `Available` with their
    /// attempt not counted. Returns when all of that is done.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "worker task ended abnormally");
        }
    }

    /// Whether the worker is still running.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|task| !task.is_finished())
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn run(shared: Arc<WorkerShared>, stop: CancellationToken) {
    if !backend_usable(&shared, &stop).await {
        return;
    }
    let (completions, completed) = mpsc::unbounded_channel();
    let completer = tokio::spawn(completer::run(
        Arc::clone(&shared.backend),
        completed,
        shared.config.completion_batch,
    ));
    // Leases must keep being renewed while running jobs drain at shutdown,
    // so the heartbeat and the leader term stop last; the heartbeat's last
    // word removes this worker from the live ones.
    let last = CancellationToken::new();
    let heartbeat = tokio::spawn(heartbeat::run(Arc::clone(&shared), last.clone()));
    let (is_leader, leads) = watch::channel(false);
    let leader = tokio::spawn(leader::run(Arc::clone(&shared), is_leader, last.clone()));
    let scheduler = tokio::spawn(scheduler::run(
        Arc::clone(&shared),
        leads.clone(),
        stop.clone(),
    ));
    let maintenance = tokio::spawn(maintenance::run(Arc::clone(&shared), leads, stop.clone()));

    let slots = TaskTracker::new();
    let interrupt = CancellationToken::new();
    let mut producers = Vec::with_capacity(shared.queues.len());
    for queue in &shared.queues {
        let plan = Arc::new(FetchPlan::new(&shared, queue));
        for slot in 0..queue.concurrency {
            slots.spawn(executor::run_slot(
                Arc::clone(&shared),
                Arc::clone(queue),
                Arc::clone(&plan),
                slot,
                completions.clone(),
                interrupt.clone(),
            ));
        }
        let producer = Producer {
            shared: Arc::clone(&shared),
            queue: Arc::clone(queue),
            plan,
            completions: completions.clone(),
            stop: stop.clone(),
        };
        producers.push(tokio::spawn(producer.run()));
    }
    drop(completions);
    tracing::info!(worker = %shared.id, kinds = shared.kinds.len(), "worker started");

    stop.cancelled().await;
    let now = Instant::now();
    let deadline = now
        .checked_add(shared.config.shutdown_timeout)
        .unwrap_or_else(|| now + FAR_AWAY);
    shut_down(
        &shared,
        producers,
        [scheduler, maintenance],
        slots,
        interrupt,
        deadline,
    )
    .await;
    // the completer ends once the slots and producers dropped their senders
    // and it has written what they sent
    let mut completer = completer;
    if tokio::time::timeout_at(deadline, &mut completer)
        .await
        .is_err()
    {
        completer.abort();
        tracing::error!(
            "could not record every job outcome within the shutdown timeout; the rescuer will return those jobs"
        );
    }
    last.cancel();
    // resigning the leadership is a courtesy (a term left to lapse is taken
    // over all the same), so it gets what is left of the budget and no more
    let deadline = deadline.max(Instant::now() + LAST_WORDS);
    for task in [heartbeat, leader] {
        join_until(task, deadline).await;
    }
    tracing::info!(worker = %shared.id, "worker stopped");
}

/// How long the heartbeat and the leader task get to finish once a
/// shutdown has spent its budget.
const LAST_WORDS: Duration = Duration::from_millis(50);

/// A deadline for a budget too large to add to the clock: never reached.
const FAR_AWAY: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The steps of a shutdown up to writing the outcomes, within the budget:
/// stop fetching, let runs finish until two reserves are left, then fire
/// their cancellation and give them one reserve to wind down before they
/// are dropped (their jobs are released).
async fn shut_down(
    shared: &WorkerShared,
    producers: Vec<JoinHandle<()>>,
    leader_tasks: [JoinHandle<()>; 2],
    slots: TaskTracker,
    interrupt: CancellationToken,
    deadline: Instant,
) {
    tracing::info!(worker = %shared.id, running = shared.running(), "worker shutting down");
    let reserve = shared.config.shutdown_reserve();
    let runs_end = deadline.checked_sub(reserve * 2).unwrap_or(deadline);
    for task in producers.into_iter().chain(leader_tasks) {
        join_until(task, runs_end).await;
    }
    // The producers closed their queues and gave the buffered jobs back;
    // each slot ends once its run does.
    slots.close();
    if tokio::time::timeout_at(runs_end, slots.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            running = shared.running(),
            timeout = ?shared.config.shutdown_timeout,
            "jobs still running near the end of the shutdown timeout; cancelling them and returning them to their queues"
        );
        interrupt.cancel();
        slots.wait().await;
    }
}

/// Waits until the backend's check passes; `false` if stopped first.
async fn backend_usable(shared: &WorkerShared, stop: &CancellationToken) -> bool {
    let mut backoff = ErrorBackoff::default();
    loop {
        match shared.backend.check().await {
            Ok(()) => return true,
            Err(error) => {
                let pause = backoff.failed();
                tracing::error!(worker = %shared.id, %error, ?pause, "the worker cannot use its backend and runs nothing until it can");
                tokio::select! {
                    () = stop.cancelled() => return false,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// Waits for `task` until `deadline`, then aborts it.
async fn join_until(mut task: JoinHandle<()>, deadline: Instant) {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Err(error)) if error.is_panic() => {
            tracing::error!(%error, "a worker task panicked");
        }
        Ok(_) => {}
        Err(_elapsed) => {
            task.abort();
            tracing::debug!("a worker task did not stop within the shutdown timeout; aborted");
        }
    }
}

/// The machine's host name, or `"unknown"` when the system gives none
/// that is text.
fn hostname() -> String {
    gethostname::gethostname()
        .into_string()
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
