//! One served queue's local state: the jobs claimed but not started yet
//! (the buffer the producer fills and the slots drain), the runs in its
//! slots, and how fast its jobs run, which sizes the buffer.
//!
//! Claimed jobs are already `Running` in the store, under a lease, so the
//! heartbeat renews the buffered ones' leases as well as the running ones',
//! and shutdown returns the buffered ones untouched.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::backend::{FetchedJob, ProgressReport, RunningAttempt};
use crate::registry::JobDefinition;
use crate::worker::idle_watch::Watch;
use crate::worker::metrics::JobCounters;
use crate::{JobContext, JobId};

/// Up to this many kinds are looked up by comparing names; more by hash.
const FEW_KINDS: usize = 8;

/// A kind this worker runs, as the slots of one queue need it.
pub(crate) struct Kind {
    pub(crate) definition: &'static JobDefinition,
    /// Made on first use, so a metrics recorder installed after the worker
    /// was built still gets them.
    counters: OnceLock<JobCounters>,
}

/// The run in one slot.
struct Run {
    run: RunningAttempt,
    /// A clone of the run's context: its cancellation and its progress.
    context: JobContext,
    /// The progress last written to the store.
    reported: Option<f32>,
}

/// One slot: the run in it, and how long its runs took.
#[derive(Default)]
struct Slot {
    run: Mutex<Option<Run>>,
    /// Runs finished, and their total duration in nanoseconds.
    runs: AtomicU64,
    run_nanos: AtomicU64,
}

/// The producer's reading of the slots' timings at its last fetch.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    runs: u64,
    run_nanos: u64,
}

/// One served queue.
pub(crate) struct LocalQueue {
    pub(crate) name: Arc<str>,
    pub(crate) concurrency: usize,
    /// The kinds, and for many of them an index by name.
    kinds: Vec<(&'static str, Kind)>,
    by_name: HashMap<&'static str, usize>,
    /// Claimed, not started, best first.
    buffer: Mutex<VecDeque<FetchedJob>>,
    /// `buffer.len()`, readable without the lock.
    buffered: AtomicUsize,
    /// Slots running a job now.
    busy: AtomicUsize,
    /// Set at shutdown: slots take no more jobs.
    closed: AtomicBool,
    /// Wakes idle slots when jobs are buffered or the queue closes.
    jobs_ready: Notify,
    /// Wakes the producer when it is worth fetching again.
    room: Notify,
    slots: Box<[Slot]>,
    /// Whether an idle slot listens for new jobs instead of the producer.
    pub(crate) watch: Watch,
    /// Held by whoever claims (the producer or the watching slot) from the
    /// claim until its jobs are buffered, so that jobs are buffered in the
    /// order they were claimed.
    claiming: tokio::sync::Mutex<()>,
    /// Jobs to hold beyond the slots: what they start within the horizon.
    prefetch: AtomicUsize,
    max_prefetch: usize,
    horizon: Duration,
}

impl LocalQueue {
    pub(crate) fn new(
        name: &str,
        concurrency: usize,
        jobs: &HashMap<&'static str, &'static JobDefinition>,
        max_prefetch: usize,
        horizon: Duration,
    ) -> Self {
        let kinds: Vec<(&'static str, Kind)> = jobs
            .iter()
            .map(|(&name, &definition)| {
                let kind = Kind {
                    definition,
                    counters: OnceLock::new(),
                };
                (name, kind)
            })
            .collect();
        let by_name = if kinds.len() > FEW_KINDS {
            kinds
                .iter()
                .enumerate()
                .map(|(at, &(name, _))| (name, at))
                .collect()
        } else {
            HashMap::new()
        };
        Self {
            name: Arc::from(name),
            concurrency,
            kinds,
            by_name,
            buffer: Mutex::new(VecDeque::new()),
            buffered: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            jobs_ready: Notify::new(),
            room: Notify::new(),
            slots: (0..concurrency).map(|_| Slot::default()).collect(),
            watch: Watch::default(),
            claiming: tokio::sync::Mutex::new(()),
            prefetch: AtomicUsize::new(0),
            max_prefetch,
            horizon,
        }
    }

    /// The definition and counters of `kind`, if this worker runs it.
    pub(crate) fn kind(&self, kind: &str) -> Option<(&'static JobDefinition, &JobCounters)> {
        let entry = self.entry(kind)?;
        let counters = entry
            .counters
            .get_or_init(|| JobCounters::new(&self.name, entry.definition.name));
        Some((entry.definition, counters))
    }

    /// Looked up twice for every job: a backend that hands back the name
    /// the fetch passed (the memory backend does) is found by address, and
    /// a few kinds are compared rather than hashed.
    fn entry(&self, kind: &str) -> Option<&Kind> {
        if self.kinds.len() > FEW_KINDS {
            return self.by_name.get(kind).map(|&at| &self.kinds[at].1);
        }
        let same = |name: &&str| name.as_ptr() == kind.as_ptr() && name.len() == kind.len();
        self.kinds
            .iter()
            .find(|(name, _)| same(name))
            .or_else(|| self.kinds.iter().find(|(name, _)| *name == kind))
            .map(|(_, entry)| entry)
    }

    // ---- the producer's side ----------------------------------------------

    /// How many jobs to claim now: what fits beside the busy slots and the
    /// buffer, up to `fetch_batch`; zero while the buffer holds more than
    /// half its target (fetching then would only make batches smaller).
    pub(crate) fn wanted(&self, fetch_batch: usize) -> usize {
        let prefetch = self.prefetch.load(Ordering::Relaxed);
        let buffered = self.buffered.load(Ordering::Acquire);
        let busy = self.busy.load(Ordering::Acquire);
        let room = (self.concurrency + prefetch).saturating_sub(buffered + busy);
        if buffered > prefetch / 2 {
            return 0;
        }
        room.min(fetch_batch)
    }

    /// Waits until [`wanted`](Self::wanted) may have grown.
    pub(crate) async fn room(&self) {
        self.room.notified().await;
    }

    /// Re-sizes the buffer from the runs since the last call: as many jobs
    /// as the slots start within the horizon, at the mean run time seen.
    pub(crate) fn update_pace(&self, pace: &mut Pace) {
        let (runs, nanos) = self.slots.iter().fold((0, 0), |(runs, nanos), slot| {
            (
                runs + slot.runs.load(Ordering::Relaxed),
                nanos + slot.run_nanos.load(Ordering::Relaxed),
            )
        });
        let (new_runs, new_nanos) = (runs - pace.runs, nanos - pace.run_nanos);
        if new_runs == 0 {
            return;
        }
        pace.runs = runs;
        pace.run_nanos = nanos;
        let mean = (new_nanos / new_runs).max(1);
        let horizon = u64::try_from(self.horizon.as_nanos()).unwrap_or(u64::MAX);
        let starts = (horizon / mean).saturating_mul(self.concurrency as u64);
        let prefetch = usize::try_from(starts)
            .unwrap_or(usize::MAX)
            .min(self.max_prefetch);
        self.prefetch.store(prefetch, Ordering::Relaxed);
    }

    /// Adds claimed jobs and wakes idle slots.
    pub(crate) fn push(&self, jobs: Vec<FetchedJob>) {
        let count = jobs.len();
        if count == 0 {
            return;
        }
        {
            let mut buffer = lock(&self.buffer);
            buffer.extend(jobs);
            self.buffered.store(buffer.len(), Ordering::Release);
        }
        self.wake_slots(count);
    }

    /// Jobs a slot claimed itself: it runs the first, the others are
    /// buffered for the other slots. Gives them all back if the queue has
    /// closed meanwhile.
    pub(crate) fn push_keeping_first(
        &self,
        jobs: Vec<FetchedJob>,
    ) -> Result<Option<FetchedJob>, Vec<FetchedJob>> {
        let mut jobs = jobs.into_iter();
        let (first, rest) = {
            let mut buffer = lock(&self.buffer);
            // checked under the lock `close` drains the buffer with
            if self.closed.load(Ordering::Acquire) {
                return Err(jobs.collect());
            }
            let Some(first) = jobs.next() else {
                return Ok(None);
            };
            self.busy.fetch_add(1, Ordering::AcqRel);
            buffer.extend(jobs);
            let rest = buffer.len();
            self.buffered.store(rest, Ordering::Release);
            (first, rest)
        };
        if rest > 0 {
            self.wake_slots(rest);
        }
        Ok(Some(first))
    }

    fn wake_slots(&self, count: usize) {
        // As many idle slots as there are new jobs: a lone job wakes one
        // slot, not every idle one, which would be as many tasks to
        // schedule and a parked runtime thread woken to steal them, on the
        // way to the slot that runs the job. (A slot woken for a job another
        // slot took looks again and waits again.)
        if count >= self.concurrency {
            self.jobs_ready.notify_waiters();
        } else {
            for _ in 0..count {
                self.jobs_ready.notify_one();
            }
        }
    }

    /// Closes the queue: slots take no more jobs. Returns the buffered
    /// jobs, to be given back.
    pub(crate) fn close(&self) -> Vec<FetchedJob> {
        let drained: Vec<FetchedJob> = {
            let mut buffer = lock(&self.buffer);
            self.closed.store(true, Ordering::Release);
            self.buffered.store(0, Ordering::Release);
            buffer.drain(..).collect()
        };
        self.jobs_ready.notify_waiters();
        drained
    }

    /// The right to claim: one claim at a time, buffered before the next.
    pub(crate) async fn claim_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.claiming.lock().await
    }

    /// Whether the queue has closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    // ---- the slots' side --------------------------------------------------

    /// The next buffered job, waiting for one; `None` once closed.
    pub(crate) async fn take(&self) -> Option<FetchedJob> {
        loop {
            // under load a job is buffered: take it without registering
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            if let Some(job) = self.take_buffered() {
                return Some(job);
            }
            let notified = self.jobs_ready.notified();
            tokio::pin!(notified);
            // registered before looking, so a push in between still wakes us
            notified.as_mut().enable();
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            if let Some(job) = self.pop() {
                return Some(job);
            }
            notified.await;
        }
    }

    /// The next buffered job if there is one now and the queue is open:
    /// [`take`](Self::take) without waiting.
    pub(crate) fn take_buffered(&self) -> Option<FetchedJob> {
        if self.closed.load(Ordering::Acquire) || self.buffered.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.pop()
    }

    /// The next buffered job, if there is one now.
    pub(crate) fn try_take(&self) -> Option<FetchedJob> {
        self.pop()
    }

    fn pop(&self) -> Option<FetchedJob> {
        let job = {
            let mut buffer = lock(&self.buffer);
            let job = buffer.pop_front()?;
            self.buffered.store(buffer.len(), Ordering::Release);
            job
        };
        self.busy.fetch_add(1, Ordering::AcqRel);
        Some(job)
    }

    /// Records the run now in slot `slot`.
    pub(crate) fn start_run(&self, slot: usize, context: &JobContext) {
        if let Some(slot) = self.slots.get(slot) {
            *lock(&slot.run) = Some(Run {
                run: RunningAttempt {
                    id: context.id(),
                    attempt: context.attempt(),
                },
                context: context.clone(),
                reported: None,
            });
        }
    }

    /// Records that slot `slot`'s run ended after `took`, and wakes the
    /// producer if fetching is worthwhile now.
    pub(crate) fn end_run(&self, slot: usize, took: Duration) {
        if let Some(slot) = self.slots.get(slot) {
            lock(&slot.run).take();
            slot.runs.fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
            slot.run_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        self.slot_freed();
    }

    /// A slot took a job but did not run it.
    pub(crate) fn slot_freed(&self) {
        self.busy.fetch_sub(1, Ordering::AcqRel);
        let prefetch = self.prefetch.load(Ordering::Relaxed);
        if self.buffered.load(Ordering::Acquire) <= prefetch / 2 {
            self.room.notify_one();
        }
    }

    // ---- the heartbeat's side ---------------------------------------------

    /// Every claimed attempt: running in a slot or buffered.
    pub(crate) fn leased(&self, into: &mut Vec<RunningAttempt>) {
        for slot in &self.slots {
            if let Some(run) = lock(&slot.run).as_ref() {
                into.push(run.run);
            }
        }
        into.extend(lock(&self.buffer).iter().map(|job| RunningAttempt {
            id: job.id,
            attempt: job.attempt,
        }));
    }

    /// The progress runs reported since the last call, taken as written.
    pub(crate) fn progress_changes(&self, into: &mut Vec<ProgressReport>) {
        for slot in &self.slots {
            if let Some(run) = lock(&slot.run).as_mut() {
                let current = run.context.progress();
                if current != run.reported {
                    if let Some(progress) = current {
                        into.push(ProgressReport {
                            run: run.run,
                            progress,
                        });
                    }
                    run.reported = current;
                }
            }
        }
    }

    /// The store no longer considers job `id` running at its attempt: stop
    /// its run, or drop it from the buffer unstarted. Returns whether this
    /// queue had it.
    pub(crate) fn cancel(&self, id: JobId) -> bool {
        for slot in &self.slots {
            if let Some(run) = lock(&slot.run).as_ref()
                && run.run.id == id
            {
                run.context.cancellation_token().cancel();
                return true;
            }
        }
        let mut buffer = lock(&self.buffer);
        let before = buffer.len();
        buffer.retain(|job| job.id != id);
        self.buffered.store(buffer.len(), Ordering::Release);
        buffer.len() != before
    }

    /// Jobs running in slots now.
    pub(crate) fn busy(&self) -> usize {
        self.busy.load(Ordering::Acquire)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
