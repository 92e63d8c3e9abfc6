//! `MemoryBackend`: the [`Backend`] trait over one locked [`Store`].
//!
//! Each method takes the lock for one synchronous store operation, never
//! across an `.await`, and signals wake-ups and freed room after releasing it.

use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jobs_core::backend::{
    Completion, FetchRequest, FetchedBatch, InsertMode, MaintenanceReport, NewJob, ScheduleSpec,
    StoredSchedule,
};
use jobs_core::wake::{WakeHub, Wakeup};
use jobs_core::{Backend, BoxError, Clock, Counts, EnqueueError, JobFilter, JobId, JobInfo};
use tokio::sync::Notify;

use crate::config::{Config, DEFAULT_CAPACITY};
use crate::store::{Effects, Rejected, Room, Store};
use crate::view::JobView;

/// The in-process job store: no set-up, bounded, not durable.
///
/// A cheap handle: clones share one store. See the [crate docs](crate) for
/// what it keeps and for how long.
///
/// ```
/// use std::time::Duration;
/// use jobs_memory::MemoryBackend;
///
/// let backend = MemoryBackend::with_capacity(10_000)
///     .retention_completed(Duration::from_secs(3600))
///     .max_finished(50_000);
/// assert_eq!(backend.capacity(), 10_000);
/// assert_eq!(backend.len(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryBackend {
    shared: Arc<Shared>,
}

struct Shared {
    store: Mutex<Store>,
    wake: WakeHub,
    /// Signalled when jobs finish or are deleted while an insert waits.
    room: Notify,
}

impl MemoryBackend {
    /// A backend holding at most [`DEFAULT_CAPACITY`] (100 000) unfinished
    /// jobs.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A backend holding at most `capacity` unfinished jobs (`Scheduled`,
    /// `Available`, `Running`, `Retryable`). With a capacity of zero every
    /// enqueue fails with [`EnqueueError::QueueFull`].
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                store: Mutex::new(Store::new(Config::with_capacity(capacity))),
                wake: WakeHub::new(),
                room: Notify::new(),
            }),
        }
    }

    /// How long `Completed` jobs are kept (default 24 h).
    pub fn retention_completed(self, retention: Duration) -> Self {
        self.lock().config.retention_completed = retention;
        self
    }

    /// How long `Dead` and `Cancelled` jobs are kept (default 7 days).
    pub fn retention_failed(self, retention: Duration) -> Self {
        self.lock().config.retention_failed = retention;
        self
    }

    /// The most finished jobs kept at once (default 100 000); when more
    /// finish, the oldest are deleted at once, whatever their retention, so
    /// memory stays bounded under any throughput.
    pub fn max_finished(self, max: usize) -> Self {
        self.lock().config.max_finished = max;
        self
    }

    /// The clock that decides when jobs are due, leases expire and
    /// retention ends (default: the system clock). Give it the same
    /// [`ManualClock`](jobs_core::ManualClock) as the worker to test
    /// schedules without waiting.
    pub fn clock(self, clock: impl Clock) -> Self {
        self.lock().config.clock = Arc::new(clock);
        self
    }

    /// The most unfinished jobs this backend holds.
    pub fn capacity(&self) -> usize {
        self.lock().config.capacity
    }

    /// How many jobs are unfinished now (what counts against the capacity).
    pub fn len(&self) -> usize {
        self.lock().unfinished()
    }

    /// Whether no job is unfinished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // Store operations do not panic on any input; if one did, the store
        // is still memory-safe, and refusing every later call would be worse.
        self.shared
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` on the store with the current time, then signals what it
    /// asked for.
    fn with_store<T>(&self, op: impl FnOnce(&mut Store, DateTime<Utc>) -> T) -> T {
        let (result, effects) = {
            let mut store = self.lock();
            let now = store.config.now();
            let result = op(&mut store, now);
            (result, store.take_effects())
        };
        self.signal(effects);
        result
    }

    fn signal(&self, effects: Effects) {
        for queue in &effects.wake {
            self.shared.wake.notify(queue);
        }
        if effects.room {
            self.shared.room.notify_waiters();
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.lock();
        f.debug_struct("MemoryBackend")
            .field("capacity", &store.config.capacity)
            .field("unfinished", &store.unfinished())
            .finish_non_exhaustive()
    }
}

fn to_infos(views: Vec<JobView>) -> Vec<JobInfo> {
    views.into_iter().map(JobView::into_info).collect()
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn job_insert_many(
        &self,
        mut jobs: Vec<NewJob>,
        mode: InsertMode,
    ) -> Result<Vec<JobId>, EnqueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        loop {
            // Registered before looking, so room freed between the look and
            // the wait still wakes this insert.
            let mut room = pin!(self.shared.room.notified());
            room.as_mut().enable();
            let (result, capacity) = self.with_store(|store, now| {
                let result = store.insert_many(jobs, now, Room::Bounded);
                if matches!(result, Err((_, Rejected::Full))) && mode == InsertMode::Wait {
                    store.want_room();
                }
                (result, store.config.capacity)
            });
            match result {
                Ok(ids) => return Ok(ids),
                Err((back, Rejected::Full)) if mode == InsertMode::Wait => {
                    jobs = back;
                    room.await;
                }
                Err(_) => return Err(EnqueueError::QueueFull { capacity }),
            }
        }
    }

    async fn job_fetch(&self, request: FetchRequest<'_>) -> Result<FetchedBatch, BoxError> {
        Ok(self.with_store(|store, now| store.fetch(&request, now)))
    }

    async fn job_complete_many(&self, completions: Vec<Completion>) -> Result<(), BoxError> {
        self.with_store(|store, now| store.complete_many(completions, now));
        Ok(())
    }

    async fn job_heartbeat(
        &self,
        running: &[(JobId, u32)],
        lease: Duration,
    ) -> Result<Vec<JobId>, BoxError> {
        Ok(self.with_store(|store, now| store.heartbeat(running, lease, now)))
    }

    async fn job_progress_many(&self, progress: &[(JobId, u32, f32)]) -> Result<(), BoxError> {
        self.with_store(|store, _now| store.progress(progress));
        Ok(())
    }

    fn job_wakeup(&self, queue: &str) -> Wakeup {
        self.shared.wake.subscribe(queue)
    }

    async fn job_get(&self, id: JobId) -> Result<Option<JobInfo>, BoxError> {
        let view = self.with_store(|store, now| store.get(id, now));
        Ok(view.map(JobView::into_info))
    }

    async fn job_list(&self, filter: &JobFilter) -> Result<Vec<JobInfo>, BoxError> {
        Ok(to_infos(
            self.with_store(|store, now| store.list(filter, now)),
        ))
    }

    async fn job_counts(&self) -> Result<Counts, BoxError> {
        Ok(self.with_store(|store, now| store.counts(now)))
    }

    async fn job_retry(&self, id: JobId) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.retry(id, now)))
    }

    async fn job_cancel(&self, id: JobId) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.cancel(id, now)))
    }

    async fn job_delete(&self, id: JobId) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, _now| store.delete(id)))
    }

    async fn schedule_upsert(
        &self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
    ) -> Result<StoredSchedule, BoxError> {
        Ok(self.with_store(|store, _now| store.schedule_upsert(spec, next_run_at)))
    }

    async fn schedule_list(&self) -> Result<Vec<StoredSchedule>, BoxError> {
        Ok(self.with_store(|store, _now| store.schedule_list()))
    }

    async fn schedule_advance(
        &self,
        id: &str,
        expected_next: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
        jobs: Vec<NewJob>,
    ) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| {
            store.schedule_advance(id, expected_next, next_run_at, jobs, now)
        }))
    }

    async fn schedule_remove(&self, id: &str) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, _now| store.schedule_remove(id)))
    }

    /// One process is the only one that can see this store, so it always
    /// leads.
    async fn leader_elect(&self, _worker_id: &str, _ttl: Duration) -> Result<bool, BoxError> {
        Ok(true)
    }

    async fn leader_resign(&self, _worker_id: &str) -> Result<(), BoxError> {
        Ok(())
    }

    async fn maintain(&self) -> Result<MaintenanceReport, BoxError> {
        Ok(self.with_store(|store, now| store.maintain(now)))
    }
}
