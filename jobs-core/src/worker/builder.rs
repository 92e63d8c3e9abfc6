//! `Worker::builder(..)`: which queues, which states, which jobs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::BuildError;
use crate::backend::Backend;
use crate::clock::{Clock, SystemClock};
use crate::queue_name::{DEFAULT_QUEUE, is_valid_queue_name};
use crate::registry::{self, JobDefinition, RecurringDefinition};
use crate::worker::Worker;
use crate::worker::config::WorkerConfig;
use crate::worker::shared_states::SharedStates;

/// Configures a [`Worker`]. Made by [`Worker::builder`].
///
/// ```rust,standalone_crate
/// use std::time::Duration;
/// use jobs_core::Worker;
/// use jobs_memory::MemoryBackend;
///
/// #[derive(Clone)]
/// struct App { greeting: String }
///
/// let worker = Worker::builder(MemoryBackend::new())
///     .state(App { greeting: "hello".into() })
///     .queue("critical", 10)
///     .queue("default", 5)
///     .shutdown_timeout(Duration::from_secs(30))
///     .build()
///     .expect("every job's states are given");
/// ```
#[must_use = "call `.build()` to get a worker"]
pub struct WorkerBuilder {
    backend: Arc<dyn Backend>,
    states: SharedStates,
    queues: Vec<(String, usize)>,
    only: Option<Vec<String>>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    errors: Vec<BuildError>,
}

impl WorkerBuilder {
    pub(crate) fn new(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            states: SharedStates::default(),
            queues: Vec::new(),
            only: None,
            clock: Arc::new(SystemClock),
            config: WorkerConfig::default(),
            errors: Vec::new(),
        }
    }

    /// Adds a shared state, injected into every `State<T>` parameter of type
    /// `T`. One value per type; a second call for the same type replaces it.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// Serves `queue` with at most `concurrency` jobs running at once. A
    /// worker serves only the queues it is given; with none, it serves
    /// `"default"` with one slot per CPU.
    pub fn queue(mut self, queue: impl Into<String>, concurrency: usize) -> Self {
        let queue = queue.into();
        if !is_valid_queue_name(&queue) {
            self.errors.push(BuildError::InvalidQueue(queue));
        } else if concurrency == 0 {
            self.errors.push(BuildError::ZeroConcurrency(queue));
        } else if let Some(existing) = self.queues.iter_mut().find(|(name, _)| *name == queue) {
            existing.1 = concurrency;
        } else {
            self.queues.push((queue, concurrency));
        }
        self
    }

    /// Runs only these job kinds (and their schedules), instead of every job
    /// linked into the binary: `.only(&[send_welcome_email::NAME])`.
    pub fn only(mut self, kinds: &[&str]) -> Self {
        self.only = Some(kinds.iter().map(|kind| (*kind).to_owned()).collect());
        self
    }

    /// The whole budget of a graceful shutdown (default 30 s), as .NET's
    /// `HostOptions.ShutdownTimeout`: running jobs may finish until a fifth
    /// of it is left (at most 2 s); then their cancellation fires, those
    /// still running are dropped half-way through that rest and returned to
    /// their queues, and the outcomes are written in the last part. So
    /// `shutdown()` returns within this, and a process manager that kills
    /// the process after it finds every outcome written.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// How long a claimed job's lease lasts without a heartbeat (default
    /// 30 s). Heartbeats renew it every third of this.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self.config.heartbeat_interval = lease / 3;
        self
    }

    /// How long a leader's term lasts unless renewed (default 15 s). The
    /// leader renews it every third of this; when the leader dies, another
    /// worker takes over the cron scheduler and maintenance within a term.
    pub fn leader_term(mut self, term: Duration) -> Self {
        self.config.leader_ttl = term;
        self
    }

    /// How long an idle queue waits for a wake-up before looking again
    /// anyway (default 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.config.poll_interval = interval;
        self
    }

    /// How often the leader runs backend maintenance: rescuing expired
    /// leases and pruning finished jobs (default 15 s).
    pub fn maintenance_interval(mut self, interval: Duration) -> Self {
        self.config.maintenance_interval = interval;
        self
    }

    /// How often the cron scheduler re-reads stored schedules when no tick
    /// is due sooner (default 5 s).
    pub fn scheduler_interval(mut self, interval: Duration) -> Self {
        self.config.scheduler_interval = interval;
        self
    }

    /// The most jobs one fetch claims (default 1 000; fewer when fewer
    /// slots are free).
    pub fn fetch_batch(mut self, size: usize) -> Self {
        self.config.fetch_batch = size;
        self
    }

    /// How far ahead each queue claims jobs beyond its free slots: as many
    /// as its slots start within this time, at the run time seen so far, up
    /// to the fetch batch (default 100 ms). Claimed jobs are `Running` in
    /// the store and leased to this worker until they run; shutdown gives
    /// unstarted ones back. Zero claims only into free slots.
    pub fn prefetch_horizon(mut self, horizon: Duration) -> Self {
        self.config.prefetch_horizon = horizon;
        self
    }

    /// A tick older than this when the scheduler sees it counts as missed
    /// and follows the schedule's `misfire` policy (default 60 s).
    pub fn misfire_threshold(mut self, threshold: Duration) -> Self {
        self.config.misfire_threshold =
            chrono::Duration::from_std(threshold).unwrap_or(chrono::Duration::MAX);
        self
    }

    /// How long `Completed` jobs are kept before the leader prunes them
    /// (default 24 h).
    pub fn retention_completed(mut self, retention: Duration) -> Self {
        self.config.retention_completed = retention;
        self
    }

    /// How long `Dead` and `Cancelled` jobs are kept before the leader
    /// prunes them (default 7 days).
    pub fn retention_failed(mut self, retention: Duration) -> Self {
        self.config.retention_failed = retention;
        self
    }

    /// The clock the cron scheduler reads; tests pass a
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the configuration against the linked jobs: every `State<T>`
    /// given, kind names and schedule ids unique, `.only` names known.
    pub fn build(mut self) -> Result<Worker, BuildError> {
        if let Some(error) = self.errors.drain(..).next() {
            return Err(error);
        }
        self.config.validate()?;
        let (jobs, schedules) = select_jobs(self.only.as_deref())?;
        for job in jobs.values() {
            if let Some(missing) = job
                .states
                .iter()
                .find(|state| !self.states.contains((state.type_id)()))
            {
                return Err(BuildError::MissingState {
                    job: job.name.to_owned(),
                    state: (missing.type_name)().to_owned(),
                });
            }
        }
        let queues_given = !self.queues.is_empty();
        let queues = if self.queues.is_empty() {
            let cpus = std::thread::available_parallelism().map_or(1, usize::from);
            vec![(DEFAULT_QUEUE.to_owned(), cpus)]
        } else {
            self.queues
        };
        let mut worker = Worker::from_parts(
            self.backend,
            self.states,
            queues,
            jobs,
            schedules,
            self.clock,
            self.config,
        );
        worker.queues_given = queues_given;
        Ok(worker)
    }
}

/// The linked jobs and schedules, narrowed by `.only`, checked for clashes.
#[allow(clippy::type_complexity)]
fn select_jobs(
    only: Option<&[String]>,
) -> Result<
    (
        HashMap<&'static str, &'static JobDefinition>,
        Vec<&'static RecurringDefinition>,
    ),
    BuildError,
> {
    let mut jobs: HashMap<&'static str, &'static JobDefinition> = HashMap::new();
    for job in registry::jobs() {
        if let Some(first) = jobs.insert(job.name, job)
            && !std::ptr::eq(first, job)
        {
            return Err(BuildError::DuplicateKind {
                kind: job.name.to_owned(),
                first: first.location.to_owned(),
                second: job.location.to_owned(),
            });
        }
    }
    let mut schedules: Vec<&'static RecurringDefinition> = Vec::new();
    for schedule in registry::schedules() {
        if let Some(first) = schedules.iter().find(|s| s.id == schedule.id) {
            return Err(BuildError::DuplicateScheduleId {
                id: schedule.id.to_owned(),
                first: first.job.name.to_owned(),
                second: schedule.job.name.to_owned(),
            });
        }
        schedules.push(schedule);
    }
    match only {
        Some(only) => {
            if let Some(unknown) = only.iter().find(|kind| !jobs.contains_key(kind.as_str())) {
                return Err(BuildError::UnknownJob {
                    kind: unknown.clone(),
                });
            }
            jobs.retain(|name, _| only.iter().any(|kind| kind == name));
        }
        None => jobs.retain(|_, job| !is_conformance_job(job)),
    }
    schedules.retain(|schedule| jobs.contains_key(schedule.job.name));
    Ok((jobs, schedules))
}

/// The conformance suite's own jobs (feature `testing`) are linked into any
/// binary whose build enables that feature, which Cargo's feature
/// unification does for a whole workspace; they run only where a worker
/// names them in `.only(..)`.
fn is_conformance_job(job: &JobDefinition) -> bool {
    job.location.starts_with("jobs_core::testing::")
}
