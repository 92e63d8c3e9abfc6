//! Who listens for a queue's new jobs while the queue is idle.
//!
//! The producer claims jobs in batches and the slots run them: two task
//! hops from a backend's "new job" signal to a run. While the queue is idle
//! (its buffer empty, a slot waiting) one idle slot holds the *watch*
//! instead: it listens for the signal itself, claims what is due, keeps
//! the first job and buffers the rest, so a job enqueued on an idle queue
//! starts one hop after its enqueue.
//!
//! Exactly one party listens at a time, so a signal wakes one task: the
//! producer listens while no slot holds the watch. A slot takes the watch
//! when it finds nothing buffered, and keeps it through runs that end at
//! their first poll; it gives it back when a run waits for something (the
//! queue must not go deaf while that run waits), when its claim fails (the
//! producer's back-off takes over), or when its claim was full (more may be
//! due: the producer claims in batches). The producer keeps its timers (the
//! next due time, the poll interval) and does the claiming under load.
//!
//! The signals handled so far travel with the watch: whoever claims records
//! them, and whoever takes over starts from there, so a signal sent while
//! the watch changes hands is neither lost nor handled twice. Claims take
//! turns (`LocalQueue::claim_turn`): a slot's claim and the producer's
//! never overlap, so jobs are buffered in the order they were claimed, and
//! a slot takes what the producer buffered before claiming anew. A due
//! time a slot's claim sees before the producer's next look moves the
//! producer's timer.
//!
//! A run that blocks its thread (rather than awaiting) while its slot holds
//! the watch leaves the queue to the producer's poll until it returns.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};

use crate::backend::{FetchedJob, JobTransition};
use crate::wake::Wakeup;
use crate::worker::WorkerShared;
use crate::worker::fetch_plan::{FetchPlan, PartialFetch, earliest};
use crate::worker::producer::{give_back, known_only};
use crate::worker::queue::LocalQueue;

/// One queue's watch.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// The watching slot's index plus one; 0 while the producer listens.
    holder: AtomicUsize,
    /// The signals handled by the latest claim, by whoever made it.
    handled: AtomicU64,
    /// Set when a slot's claim failed: slots take no watch until the
    /// producer claims successfully again.
    paused: AtomicBool,
    /// Wakes the producer: the watch changed hands, or a slot's claim saw
    /// a job due before the producer's next look.
    changed: Notify,
    looks: Mutex<Looks>,
}

/// When the producer looks next, and the earliest due time a slot's claim
/// reported since the producer's last claim.
#[derive(Debug, Default)]
struct Looks {
    next: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
}

impl Looks {
    /// The reported due time, if it comes before the producer's next look.
    fn sooner(&self) -> Option<DateTime<Utc>> {
        let due = self.due?;
        self.next.is_none_or(|next| due < next).then_some(due)
    }
}

impl Watch {
    /// Whether a slot listens now, instead of the producer.
    pub(crate) fn held(&self) -> bool {
        self.holder.load(Ordering::Acquire) != 0
    }

    /// Slot `slot` takes the watch if nobody holds it; returns whether it
    /// holds it now. `wakeup` is the slot's handle: it takes over the
    /// signals handled so far.
    pub(crate) fn hold(&self, slot: usize, wakeup: &mut Wakeup) -> bool {
        let me = slot.saturating_add(1);
        match self.holder.load(Ordering::Acquire) {
            holder if holder == me => return true,
            0 if !self.paused.load(Ordering::Acquire) => {}
            _ => return false,
        }
        if self
            .holder
            .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        wakeup.adopt_seen(self.handled.load(Ordering::Acquire));
        // the producer stops listening
        self.changed.notify_one();
        true
    }

    /// Slot `slot` gives the watch back to the producer, if it holds it.
    pub(crate) fn release(&self, slot: usize) {
        let me = slot.saturating_add(1);
        if self
            .holder
            .compare_exchange(me, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// Slot `slot`'s claim failed: it gives the watch back, and no slot
    /// takes it until the producer's claims succeed again.
    fn pause(&self, slot: usize) {
        self.paused.store(true, Ordering::Release);
        self.release(slot);
    }

    /// Records that a claim is about to handle every signal up to `seen`.
    pub(crate) fn claiming(&self, seen: u64) {
        self.handled.fetch_max(seen, Ordering::AcqRel);
    }

    /// The signals handled by the latest claim: where a listener that takes
    /// over starts from.
    pub(crate) fn handled(&self) -> u64 {
        self.handled.load(Ordering::Acquire)
    }

    /// The producer claimed successfully: slots may watch again.
    pub(crate) fn resume(&self) {
        self.paused.store(false, Ordering::Release);
    }

    /// The producer is about to claim: what it claims and the due time it
    /// learns supersede what slots reported before (claims take turns).
    pub(crate) fn producer_claims(&self) {
        lock(&self.looks).due = None;
    }

    /// The producer looks next at `next` (`None`: only when signalled);
    /// returns a due time a slot reported before that, to look at instead.
    pub(crate) fn producer_looks_at(&self, next: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let mut looks = lock(&self.looks);
        looks.next = next;
        looks.sooner()
    }

    /// A slot's claim saw a job due at `due`: wakes the producer if that is
    /// before its next look.
    fn saw_due(&self, due: DateTime<Utc>) {
        let mut looks = lock(&self.looks);
        looks.due = Some(looks.due.map_or(due, |known| known.min(due)));
        if looks.sooner().is_some() {
            drop(looks);
            self.changed.notify_one();
        }
    }

    /// A due time a slot reported before the producer's next look.
    pub(crate) fn sooner(&self) -> Option<DateTime<Utc>> {
        lock(&self.looks).sooner()
    }

    /// Waits until the watch changed hands or a job is due sooner.
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// What a slot needs to claim jobs itself.
pub(crate) struct SlotClaims<'a> {
    pub(crate) shared: &'a WorkerShared,
    pub(crate) queue: &'a LocalQueue,
    pub(crate) plan: &'a FetchPlan,
    pub(crate) completions: &'a mpsc::UnboundedSender<JobTransition>,
    pub(crate) slot: usize,
    pub(crate) wakeup: Wakeup,
}

impl SlotClaims<'_> {
    /// The next job for the slot: a buffered one, or, while the slot holds
    /// the watch, one it claims on the backend's signal. `None` once the
    /// queue is closed.
    pub(crate) async fn take(&mut self) -> Option<FetchedJob> {
        loop {
            if !self.queue.watch.hold(self.slot, &mut self.wakeup) {
                return self.queue.take().await;
            }
            tokio::select! {
                job = self.queue.take() => return job,
                () = self.wakeup.signalled() => {}
            }
            if let Some(job) = self.claim().await {
                return Some(job);
            }
        }
    }

    /// Claims what is due, keeps the first job and buffers the rest.
    async fn claim(&mut self) -> Option<FetchedJob> {
        let queue = self.queue;
        if queue.is_closed() {
            return None;
        }
        let _turn = queue.claim_turn().await;
        // the producer may have claimed meanwhile: what it buffered goes first
        if let Some(job) = queue.take_buffered() {
            return Some(job);
        }
        let limit = queue.wanted(self.shared.config.fetch_batch).max(1);
        queue.watch.claiming(self.wakeup.seen());
        let fetched = self.plan.fetch(self.shared, &queue.name, limit).await;
        let jobs = match fetched {
            Ok(batch) => {
                if batch.jobs.len() >= limit {
                    // more may be due: the producer claims in batches
                    queue.watch.release(self.slot);
                    queue.watch.saw_due(Utc::now());
                } else if let Some(due) = earliest(batch.next_due_at, batch.held_until) {
                    queue.watch.saw_due(due);
                }
                batch.jobs
            }
            Err(PartialFetch { claimed, error }) => {
                tracing::warn!(queue = %queue.name, %error, "could not fetch jobs; the producer retries");
                queue.watch.pause(self.slot);
                claimed.jobs
            }
        };
        let jobs = known_only(queue, jobs, self.completions);
        match queue.push_keeping_first(jobs) {
            Ok(first) => first,
            Err(closed) => {
                for job in &closed {
                    give_back(self.completions, job);
                }
                None
            }
        }
    }
}

impl Drop for SlotClaims<'_> {
    /// A slot that ends (at shutdown, or should it ever fail) leaves the
    /// listening to the producer.
    fn drop(&mut self) {
        self.queue.watch.release(self.slot);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
