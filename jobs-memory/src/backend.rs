//! `MemoryBackend`: the [`Backend`] trait over one locked [`Store`].
//!
//! Each method takes the lock for one synchronous store operation, never
//! across an `.await`, and signals wake-ups and freed room after releasing it.

use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jobs_core::backend::{
    BatchIdParams, BatchInsertParams, ExpiredJob, FetchedBatch, InsertMode, InsertedBatch,
    JobCompleteManyParams, JobExpiredListParams, JobFetchParams, JobFinishedPerMinuteParams,
    JobHeartbeatParams, JobIdParams, JobInsertManyParams, JobProgressManyParams, JobPruneParams,
    JobRescueManyParams, LeaderElectParams, LeaderResignParams, QueuePauseParams,
    ScheduleAdvanceParams, ScheduleDeclareParams, ScheduleRemoveParams, ScheduleUpsertParams,
    StoreFill, StoredSchedule, WorkerHeartbeatParams, WorkerRemoveParams, after,
};
use jobs_core::wake::{WakeHub, Wakeup};
use jobs_core::{
    Backend, BatchInfo, BoxError, Clock, Counts, EnqueueError, FinishedMinute, JobFilter, JobId,
    JobInfo, QueueInfo, WorkerInfo,
};
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
/// use jobs_memory::MemoryBackend;
///
/// let backend = MemoryBackend::with_capacity(10_000).max_finished(50_000);
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
        for queue in effects.wake.iter() {
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

impl MemoryBackend {
    /// Runs a bounded insert, waiting for room while the store is full in
    /// [`InsertMode::Wait`].
    async fn insert_with_room<T, R>(
        &self,
        mut input: T,
        mode: InsertMode,
        insert: impl Fn(&mut Store, T, DateTime<Utc>, Room) -> Result<R, (T, Rejected)>,
    ) -> Result<R, EnqueueError> {
        // The first look registers no waiter: it almost always finds room.
        let mut waiting = false;
        loop {
            // Registered before looking again, so room freed between the
            // look and the wait still wakes this insert.
            let mut room = pin!(self.shared.room.notified());
            if waiting {
                room.as_mut().enable();
            }
            let (result, capacity) = self.with_store(|store, now| {
                let result = insert(store, input, now, Room::Bounded);
                if matches!(result, Err((_, Rejected::Full))) && mode == InsertMode::Wait {
                    store.want_room();
                }
                (result, store.config.capacity)
            });
            match result {
                Ok(stored) => return Ok(stored),
                Err((back, Rejected::Full)) if mode == InsertMode::Wait => {
                    input = back;
                    if waiting {
                        room.await;
                    }
                    waiting = true;
                }
                Err((_, Rejected::UnknownParent(parent))) => {
                    return Err(EnqueueError::UnknownParent(parent));
                }
                Err(_) => return Err(EnqueueError::QueueFull { capacity }),
            }
        }
    }
}

fn to_infos(views: Vec<JobView>) -> Vec<JobInfo> {
    views.into_iter().map(JobView::into_info).collect()
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn job_insert_many(
        &self,
        params: JobInsertManyParams,
    ) -> Result<Vec<JobId>, EnqueueError> {
        let JobInsertManyParams { jobs, mode } = params;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.insert_with_room(jobs, mode, |store, jobs, now, room| {
            store.insert_many(jobs, now, room)
        })
        .await
    }

    async fn job_fetch(&self, params: JobFetchParams<'_>) -> Result<FetchedBatch, BoxError> {
        Ok(self.with_store(|store, now| store.fetch(&params, now)))
    }

    async fn job_complete_many(&self, params: JobCompleteManyParams) -> Result<(), BoxError> {
        self.with_store(|store, now| store.complete_many(params.transitions, now));
        Ok(())
    }

    async fn job_heartbeat(&self, params: JobHeartbeatParams<'_>) -> Result<Vec<JobId>, BoxError> {
        Ok(self.with_store(|store, now| store.heartbeat(params.running, params.lease, now)))
    }

    async fn job_progress_many(&self, params: JobProgressManyParams<'_>) -> Result<(), BoxError> {
        self.with_store(|store, _now| store.progress(params.reports));
        Ok(())
    }

    async fn job_expired_list(
        &self,
        params: JobExpiredListParams,
    ) -> Result<Vec<ExpiredJob>, BoxError> {
        Ok(self.with_store(|store, now| store.expired(params.limit, now)))
    }

    async fn job_rescue_many(&self, params: JobRescueManyParams) -> Result<u64, BoxError> {
        Ok(self.with_store(|store, now| store.rescue_many(params.transitions, now)))
    }

    async fn job_prune(&self, params: JobPruneParams) -> Result<u64, BoxError> {
        Ok(self.with_store(|store, _now| store.prune(params)))
    }

    async fn queue_pause(&self, params: QueuePauseParams<'_>) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, _now| store.pause(params.queue)))
    }

    async fn queue_resume(&self, params: QueuePauseParams<'_>) -> Result<bool, BoxError> {
        let resumed = self.with_store(|store, _now| store.resume(params.queue));
        if resumed {
            self.shared.wake.notify(params.queue);
        }
        Ok(resumed)
    }

    async fn queue_list(&self) -> Result<Vec<QueueInfo>, BoxError> {
        Ok(self.with_store(|store, _now| store.queue_list()))
    }

    fn job_wakeup(&self, queue: &str) -> Wakeup {
        self.shared.wake.subscribe(queue)
    }

    async fn job_get(&self, params: JobIdParams) -> Result<Option<JobInfo>, BoxError> {
        let view = self.with_store(|store, now| store.get(params.id, now));
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

    async fn job_retry(&self, params: JobIdParams) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.retry(params.id, now)))
    }

    async fn job_cancel(&self, params: JobIdParams) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.cancel(params.id, now)))
    }

    async fn job_delete(&self, params: JobIdParams) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.delete(params.id, now)))
    }

    async fn batch_insert(&self, params: BatchInsertParams) -> Result<InsertedBatch, EnqueueError> {
        let mode = params.mode;
        self.insert_with_room(Box::new(params), mode, |store, params, now, room| {
            store.insert_batch(params, now, room)
        })
        .await
    }

    async fn job_finished_per_minute(
        &self,
        params: JobFinishedPerMinuteParams,
    ) -> Result<Vec<FinishedMinute>, BoxError> {
        Ok(self.with_store(|store, _now| store.finished_per_minute(params.since)))
    }

    async fn batch_get(&self, params: BatchIdParams) -> Result<Option<BatchInfo>, BoxError> {
        Ok(self.with_store(|store, now| store.batch(params.id, now)))
    }

    async fn schedule_upsert(
        &self,
        params: ScheduleUpsertParams<'_>,
    ) -> Result<StoredSchedule, BoxError> {
        Ok(self.with_store(|store, now| {
            let declared_until = after(now, params.declared_for);
            store.schedule_upsert(
                params.spec,
                params.next_run_at,
                declared_until,
                params.restart,
            )
        }))
    }

    async fn schedule_declare(&self, params: ScheduleDeclareParams<'_>) -> Result<(), BoxError> {
        self.with_store(|store, now| {
            store.schedule_declare(params.ids, params.kinds, after(now, params.declared_for));
        });
        Ok(())
    }

    async fn schedule_list(&self) -> Result<Vec<StoredSchedule>, BoxError> {
        Ok(self.with_store(|store, _now| store.schedule_list()))
    }

    async fn schedule_advance(&self, params: ScheduleAdvanceParams<'_>) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.schedule_advance(params, now)))
    }

    async fn schedule_remove(&self, params: ScheduleRemoveParams<'_>) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, _now| store.schedule_remove(params.id)))
    }

    /// Several workers may share one memory backend in a process; one of
    /// them leads at a time, as on a database.
    async fn leader_elect(&self, params: LeaderElectParams<'_>) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, now| store.leader_elect(params.worker_id, params.ttl, now)))
    }

    async fn leader_resign(&self, params: LeaderResignParams<'_>) -> Result<(), BoxError> {
        self.with_store(|store, _now| store.leader_resign(params.worker_id));
        Ok(())
    }

    async fn worker_heartbeat(&self, params: WorkerHeartbeatParams<'_>) -> Result<(), BoxError> {
        self.with_store(|store, now| store.workers.heartbeat(&params, now));
        Ok(())
    }

    async fn worker_list(&self) -> Result<Vec<WorkerInfo>, BoxError> {
        Ok(self.with_store(|store, now| store.workers.live(now)))
    }

    async fn worker_remove(&self, params: WorkerRemoveParams<'_>) -> Result<bool, BoxError> {
        Ok(self.with_store(|store, _now| store.workers.remove(params.id)))
    }

    async fn worker_prune(&self) -> Result<u64, BoxError> {
        Ok(self.with_store(|store, now| store.workers.prune(now)))
    }

    /// Always `Some`: the store is bounded.
    async fn store_fill(&self) -> Result<Option<StoreFill>, BoxError> {
        let store = self.lock();
        Ok(Some(StoreFill {
            unfinished: store.unfinished() as u64,
            capacity: store.config.capacity as u64,
        }))
    }
}
