//! The worker's settings' defaults, each set with the `WorkerBuilder`
//! method of the same name.

use std::time::Duration;

/// How long a worker waits for running jobs at shutdown before cancelling them.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claimed job's lease lasts without a heartbeat.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How often running jobs' leases are renewed (a third of the lease).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How long an idle queue waits for a wake-up before looking again anyway.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often the leader runs maintenance (rescue, prune).
pub const DEFAULT_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(15);
/// How often the cron scheduler looks for new or changed schedules when no
/// tick is due sooner.
pub const DEFAULT_SCHEDULER_INTERVAL: Duration = Duration::from_secs(5);
/// The most jobs one fetch claims.
pub const DEFAULT_FETCH_BATCH: usize = 1_000;
/// How far ahead a queue claims jobs beyond its free slots: as many as its
/// slots start within this time, at the run time seen so far (at most
/// [`DEFAULT_FETCH_BATCH`]). Short jobs are then claimed in large batches;
/// jobs longer than this are claimed only into free slots.
pub const DEFAULT_PREFETCH_HORIZON: Duration = Duration::from_millis(100);
/// The most completions written in one batch.
pub const DEFAULT_COMPLETION_BATCH: usize = 1_000;
/// The most a shutdown keeps back, at the end of its budget, for jobs to
/// wind down once their cancellation fired, and again for writing the
/// outcomes: a tenth of the budget each, at most this.
pub const MAX_SHUTDOWN_RESERVE: Duration = Duration::from_secs(1);
/// How long `Completed` jobs are kept before the leader prunes them.
pub const DEFAULT_RETENTION_COMPLETED: Duration = Duration::from_secs(24 * 3600);
/// How long `Dead` and `Cancelled` jobs are kept before the leader prunes
/// them.
pub const DEFAULT_RETENTION_FAILED: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a leader's term lasts unless renewed.
pub const DEFAULT_LEADER_TTL: Duration = Duration::from_secs(15);
/// How long a backend error pauses a loop before it tries again (doubling up
/// to [`MAX_ERROR_BACKOFF`]).
pub const MIN_ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause after repeated backend errors.
pub const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// A worker's timing settings. Every field has a named default above.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkerConfig {
    pub(crate) shutdown_timeout: Duration,
    pub(crate) leader_ttl: Duration,
    pub(crate) lease: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) maintenance_interval: Duration,
    pub(crate) scheduler_interval: Duration,
    pub(crate) fetch_batch: usize,
    pub(crate) prefetch_horizon: Duration,
    pub(crate) completion_batch: usize,
    pub(crate) misfire_threshold: chrono::Duration,
    pub(crate) retention_completed: Duration,
    pub(crate) retention_failed: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            leader_ttl: DEFAULT_LEADER_TTL,
            lease: DEFAULT_LEASE,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            poll_interval: DEFAULT_POLL_INTERVAL,
            maintenance_interval: DEFAULT_MAINTENANCE_INTERVAL,
            scheduler_interval: DEFAULT_SCHEDULER_INTERVAL,
            fetch_batch: DEFAULT_FETCH_BATCH,
            prefetch_horizon: DEFAULT_PREFETCH_HORIZON,
            completion_batch: DEFAULT_COMPLETION_BATCH,
            misfire_threshold: crate::cron::DEFAULT_MISFIRE_THRESHOLD,
            retention_completed: DEFAULT_RETENTION_COMPLETED,
            retention_failed: DEFAULT_RETENTION_FAILED,
        }
    }
}

impl WorkerConfig {
    /// The share of the shutdown budget kept for each of its last two
    /// steps: letting cancelled jobs wind down, then writing outcomes.
    pub(crate) fn shutdown_reserve(&self) -> Duration {
        (self.shutdown_timeout / 10).min(MAX_SHUTDOWN_RESERVE)
    }

    /// How long a job may wind down once its cancellation fired at
    /// shutdown, before it is dropped and returned to its queue.
    pub(crate) fn cancel_grace(&self) -> Duration {
        self.shutdown_reserve()
    }

    /// Checks the settings against each other.
    pub(crate) fn validate(&self) -> Result<(), crate::BuildError> {
        let invalid = |message: String| Err(crate::BuildError::InvalidSetting(message));
        if self.lease.is_zero() {
            return invalid("lease must be longer than zero".into());
        }
        if self.heartbeat_interval.is_zero() || self.heartbeat_interval >= self.lease {
            return invalid(format!(
                "heartbeat interval {:?} must be above zero and below the lease {:?}",
                self.heartbeat_interval, self.lease
            ));
        }
        for (name, value) in [
            ("poll interval", self.poll_interval),
            ("maintenance interval", self.maintenance_interval),
            ("scheduler interval", self.scheduler_interval),
            ("leader term", self.leader_ttl),
        ] {
            if value.is_zero() {
                return invalid(format!("{name} must be longer than zero"));
            }
        }
        if self.fetch_batch == 0 || self.completion_batch == 0 {
            return invalid("fetch and completion batch sizes must be at least 1".into());
        }
        Ok(())
    }
}
