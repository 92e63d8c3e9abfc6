//! The store: one backend's jobs, indexes and schedules, and every state
//! transition on them. Synchronous and clock-free (each operation is given
//! `now`), so it is tested without a runtime; the backend holds it in a mutex
//! for short sections only.
//!
//! Invariants, kept by [`Store::unlink`] and [`Store::link`], through which
//! every state change goes:
//! - an `Available` job is in its queue's ready set for its kind;
//! - a `Scheduled` or `Retryable` job is in its queue's waiting set, and its
//!   time is in the future as of the last look (a due one is made
//!   `Available` the next time its queue is fetched or any job is read);
//! - a `Running` job is in `running`;
//! - a finished job is in the retention lines;
//! - each queue's counts match its jobs' states, and `unfinished` counts
//!   the jobs that are not finished;
//! - each unfinished unique job owns its `(kind, key)` entry in `unique`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::backend::{
    FetchedBatch, FetchedJob, JobFetchParams, JobTransition, NewJob, ParentEnd, ParentVerdict,
    ProgressReport, RunningAttempt, after, broken_error, judge_parents,
};
use jobs_core::{JobId, JobState, QueueCounts};

use crate::config::Config;
use crate::job::{Job, JobSeed};
use crate::names::{NameId, Names};
use crate::ready::QueueIndex;
use crate::retention::Retention;
use crate::schedules::Schedules;
use crate::table::{IdBuild, JobTable, Slot};
use crate::workers::Workers;

use self::batches::Batches;
use self::parents::Waits;

/// Whether an insert respects the capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Room {
    /// Only if the batch fits.
    Bounded,
    /// Always (cron ticks).
    Unbounded,
}

/// Why a bounded insert stored nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not now: wait for jobs to finish.
    Full,
    /// Never: the batch holds more new jobs than the capacity.
    TooLarge,
    /// Never: a job names a parent that is not stored.
    UnknownParent(JobId),
}

/// What an operation asks the backend to do once the lock is released.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Effects {
    /// Queues whose fetch loops should look again.
    pub(crate) wake: Wakes,
    /// Room was freed while an insert was waiting for it.
    pub(crate) room: bool,
}

/// The queues an operation woke, each once. Nearly every operation wakes
/// one queue (an enqueue, a retry): that one is kept in place, so the
/// enqueue of a single job allocates no list for it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Wakes {
    first: Option<Arc<str>>,
    more: Vec<Arc<str>>,
}

impl Wakes {
    fn push(&mut self, queue: Arc<str>) {
        match self.first {
            None => self.first = Some(queue),
            Some(_) => self.more.push(queue),
        }
    }

    /// The queues, in the order they were woken.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<str>> {
        self.first.iter().chain(&self.more)
    }
}

/// Everything one memory backend stores.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) config: Config,
    kinds: Names,
    queue_names: Names,
    /// Indexed by queue name id.
    queues: Vec<QueueIndex>,
    jobs: JobTable,
    unique: HashMap<NameId, HashMap<Box<str>, i64>>,
    /// The ids of the `Running` jobs, in no order.
    running: HashSet<i64, IdBuild>,
    retention: Retention,
    schedules: Schedules,
    waits: Waits,
    batches: Batches,
    unfinished: usize,
    next_id: i64,
    /// The leader's id and term.
    leader: Option<(Box<str>, DateTime<Utc>)>,
    /// The live workers (and the expired ones until pruned).
    pub(crate) workers: Workers,
    /// An insert is waiting for room.
    room_wanted: bool,
    wake: Vec<NameId>,
    room_freed: bool,
    /// Paused queues, by name (a queue may be paused before it has jobs).
    paused: HashSet<Box<str>>,
    /// Per kind fetched with a rate limit: the starts in its window, oldest
    /// first. Also marks the kinds fetched with any limit (an empty entry),
    /// whose runs wake their queue when they end.
    limited: HashMap<NameId, VecDeque<DateTime<Utc>>>,
    scratch: Scratch,
}

/// Lists a fetch fills, kept for the next one.
#[derive(Debug, Default)]
struct Scratch {
    /// The request's names by kind number.
    names: Vec<Option<&'static str>>,
    /// The request's kinds, with the newest version of each it runs.
    kinds: Vec<(NameId, u32)>,
    /// The ids taken from the ready set.
    ids: Vec<i64>,
}

impl Store {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            config,
            kinds: Names::default(),
            queue_names: Names::default(),
            queues: Vec::new(),
            jobs: JobTable::default(),
            unique: HashMap::new(),
            running: HashSet::default(),
            retention: Retention::default(),
            schedules: Schedules::default(),
            waits: Waits::default(),
            batches: Batches::default(),
            unfinished: 0,
            next_id: 1,
            leader: None,
            workers: Workers::default(),
            room_wanted: false,
            wake: Vec::new(),
            room_freed: false,
            paused: HashSet::new(),
            limited: HashMap::new(),
            scratch: Scratch::default(),
        }
    }

    /// How many jobs are not finished.
    pub(crate) fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// Asks for [`Effects::room`] when room is next freed.
    pub(crate) fn want_room(&mut self) {
        self.room_wanted = true;
    }

    /// What the operations since the last call ask of the backend.
    pub(crate) fn take_effects(&mut self) -> Effects {
        let mut wake = Wakes::default();
        for queue in self.wake.drain(..) {
            wake.push(Arc::clone(self.queue_names.name(queue)));
        }
        Effects {
            wake,
            room: std::mem::take(&mut self.room_freed),
        }
    }

    // ---- inserting ----------------------------------------------------

    /// Stores `jobs` in order, or none of them. A unique job whose key an
    /// unfinished job of its kind holds (possibly an earlier one of the same
    /// batch) is not stored; its holder's id is returned instead.
    pub(crate) fn insert_many(
        &mut self,
        jobs: Vec<NewJob>,
        now: DateTime<Utc>,
        room: Room,
    ) -> Result<Vec<JobId>, (Vec<NewJob>, Rejected)> {
        if let Err(rejected) = self.check_insert(&jobs, 0, room) {
            return Err((jobs, rejected));
        }
        let with_parents = jobs.iter().any(|job| !job.parents.is_empty());
        let ids = jobs
            .into_iter()
            .map(|job| JobId::new(self.insert_one(job, now)))
            .collect();
        if with_parents {
            // a job whose parent already failed is stored finished
            self.prune_over_limit();
        }
        Ok(ids)
    }

    /// Whether `jobs` (and `more` jobs besides) may be stored: every parent
    /// they name exists, and, for a bounded insert, they fit.
    fn check_insert(&self, jobs: &[NewJob], more: usize, room: Room) -> Result<(), Rejected> {
        if let Some(parent) = self.unknown_parent(jobs) {
            return Err(Rejected::UnknownParent(parent));
        }
        if room == Room::Bounded {
            let needed = self.new_jobs_in(jobs) + more;
            if needed > self.config.capacity {
                return Err(Rejected::TooLarge);
            }
            if self.unfinished + needed > self.config.capacity {
                return Err(Rejected::Full);
            }
        }
        Ok(())
    }

    /// The first parent `jobs` name that is not stored.
    fn unknown_parent<'a>(&self, jobs: impl IntoIterator<Item = &'a NewJob>) -> Option<JobId> {
        jobs.into_iter()
            .flat_map(|job| &job.parents)
            .find(|parent| self.jobs.get(parent.id.get()).is_none())
            .map(|parent| parent.id)
    }

    /// How many of `jobs` an insert would store.
    fn new_jobs_in(&self, jobs: &[NewJob]) -> usize {
        if jobs.iter().all(|job| job.unique_key.is_none()) {
            return jobs.len();
        }
        let mut seen = HashSet::new();
        jobs.iter()
            .filter(|job| match &job.unique_key {
                None => true,
                Some(key) => {
                    self.unique_holder(&job.kind, key).is_none()
                        && seen.insert((&*job.kind, key.as_str()))
                }
            })
            .count()
    }

    fn unique_holder(&self, kind: &str, key: &str) -> Option<i64> {
        let kind = self.kinds.get(kind)?;
        self.unique.get(&kind)?.get(key).copied()
    }

    fn insert_one(&mut self, job: NewJob, now: DateTime<Utc>) -> i64 {
        let kind = self.kinds.intern(&job.kind);
        let unique_key = job.unique_key.map(String::into_boxed_str);
        if let Some(key) = &unique_key
            && let Some(&holder) = self.unique.get(&kind).and_then(|holders| holders.get(key))
        {
            return holder;
        }
        let verdict = if job.parents.is_empty() {
            ParentVerdict::Ready
        } else {
            // unknown parents were refused before anything was stored
            judge_parents(&job.parents, |id| {
                self.jobs.get(id.get()).map(|job| job.state)
            })
            .unwrap_or(ParentVerdict::Ready)
        };
        let broken = match verdict {
            ParentVerdict::Broken { parent, end } => Some(broken_error(parent, end, 0, now)),
            _ => None,
        };
        if let Some(key) = &unique_key
            && broken.is_none()
        {
            self.unique
                .entry(kind)
                .or_default()
                .insert(key.clone(), self.next_id);
        }
        let queue = self.queue_names.intern(&job.queue);
        if self.queues.len() < self.queue_names.len() {
            self.queues
                .resize_with(self.queue_names.len(), QueueIndex::default);
        }
        let id = self.next_id;
        self.next_id += 1;
        let slot = self.jobs.insert(Job::new(
            JobSeed {
                id,
                // a copy of its own size, shared by every run: encoders
                // leave spare capacity (serde_json starts at 128 bytes), and
                // shrinking in place would keep the spare tail as a hole
                // between long-lived jobs that small allocations rarely fill
                // (80 MB over a million queued jobs), whereas the copy frees
                // the whole buffer for the next encode to reuse
                args: Arc::from(job.args),
                created_at: now,
                scheduled_at: job.scheduled_at.unwrap_or(now),
                max_attempts: job.max_attempts,
                version: job.version,
                kind,
                queue,
                priority: job.priority,
                unique_key,
                parents: job.parents.iter().map(|parent| parent.id).collect(),
                batch: job.batch,
                concurrency_key: job.concurrency_key.map(String::into_boxed_str),
            },
            match (&verdict, &broken) {
                (_, Some(_)) => JobState::Cancelled,
                (ParentVerdict::Waiting(_), None) => JobState::Awaiting,
                // `link` makes it `Available` if its time has come
                _ => JobState::Scheduled,
            },
        ));
        match (verdict, broken) {
            (_, Some(error)) => {
                if let Some(job) = self.jobs.at_mut(slot) {
                    job.push_error(error);
                    job.set_until(Some(now));
                }
            }
            (ParentVerdict::Waiting(parents), None) => {
                self.unfinished += 1;
                self.waits.wait(id, &parents);
            }
            _ => self.unfinished += 1,
        }
        self.link(slot, now);
        // also for a future job: an idle fetch loop learns its new next due time
        self.wake(queue);
        id
    }

    // ---- running ------------------------------------------------------

    /// Claims up to `limit` due jobs of the queue and kinds: they become
    /// `Running` at their next attempt, leased until `now + lease`.
    pub(crate) fn fetch(
        &mut self,
        request: &JobFetchParams<'_>,
        now: DateTime<Utc>,
    ) -> FetchedBatch {
        let Some(queue) = self.queue_names.get(request.queue) else {
            return FetchedBatch::default();
        };
        if !self.paused.is_empty() && self.paused.contains(request.queue) {
            return FetchedBatch::default();
        }
        if let Some(limits) = request.flow {
            return self.fetch_limited(queue, request, limits, now);
        }
        self.promote(queue, now);
        // the request's names by kind number, handed back instead of copies
        // (this and the other lists are kept for the next fetch: at a job
        // a fetch, allocating them is a good part of a claim's cost)
        let Scratch {
            mut names,
            mut kinds,
            mut ids,
        } = std::mem::take(&mut self.scratch);
        names.clear();
        names.resize(self.kinds.len(), None);
        kinds.clear();
        for (at, &name) in request.kinds.iter().enumerate() {
            if let Some(kind) = self.kinds.get(name) {
                names[kind as usize] = Some(name);
                kinds.push((kind, request.max_version(at)));
            }
        }
        let jobs = match self.queues.get_mut(queue as usize) {
            Some(index) => {
                index.pop_ready_into(&kinds, request.limit, &mut ids);
                self.claim(queue, &ids, &names, request, now)
            }
            None => Vec::new(),
        };
        self.scratch = Scratch { names, kinds, ids };
        FetchedBatch {
            jobs,
            next_due_at: self
                .queues
                .get(queue as usize)
                .and_then(QueueIndex::next_due),
            held_until: None,
        }
    }

    /// Makes the ready jobs `ids` (just taken from `queue`'s ready set)
    /// `Running` at their next attempt, leased until `now + lease`.
    fn claim(
        &mut self,
        queue: NameId,
        ids: &[i64],
        names: &[Option<&'static str>],
        request: &JobFetchParams<'_>,
        now: DateTime<Utc>,
    ) -> Vec<FetchedJob> {
        let Some(index) = self.queues.get_mut(queue as usize) else {
            return Vec::new();
        };
        let lease_until = after(now, request.lease);
        let mut jobs = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(job) = self
                .jobs
                .slot_of(id)
                .and_then(|slot| self.jobs.at_mut(slot))
                .filter(|job| job.state == JobState::Available)
            else {
                debug_assert!(false, "ready job {id} is not available");
                continue;
            };
            job.state = JobState::Running;
            job.attempt = job.attempt.saturating_add(1);
            job.set_progress(None);
            job.attempted_at = Some(now);
            job.set_until(Some(lease_until));
            decrement(&mut index.counts, JobState::Available);
            index.counts.running += 1;
            self.running.insert(id);
            let kind = match names.get(job.kind as usize).copied().flatten() {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(String::from(&**self.kinds.name(job.kind))),
            };
            jobs.push(FetchedJob {
                id: JobId::new(id),
                kind,
                args: Arc::clone(&job.args),
                attempt: job.attempt,
                max_attempts: job.max_attempts,
                version: job.version,
                created_at: job.created_at,
                scheduled_at: job.scheduled_at,
            });
        }
        jobs
    }

    /// Applies each transition whose job is still `Running` at that
    /// attempt; ignores the others (late reports of cancelled or rescued
    /// runs).
    pub(crate) fn complete_many(&mut self, transitions: Vec<JobTransition>, now: DateTime<Utc>) {
        for transition in transitions {
            let Some(slot) = self.running_slot(transition.run) else {
                continue;
            };
            self.transition(slot, now, |job| apply(job, transition, now));
        }
        self.prune_over_limit();
    }

    /// Renews the leases of those still running at their attempt; returns
    /// the others.
    pub(crate) fn heartbeat(
        &mut self,
        running: &[RunningAttempt],
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Vec<JobId> {
        let lease_until = after(now, lease);
        let mut lost = Vec::new();
        for &run in running {
            match self
                .running_slot(run)
                .and_then(|slot| self.jobs.at_mut(slot))
            {
                Some(job) => job.set_until(Some(lease_until)),
                None => lost.push(run.id),
            }
        }
        lost
    }

    /// Records reported progress of attempts still running.
    pub(crate) fn progress(&mut self, reports: &[ProgressReport]) {
        for report in reports {
            if let Some(job) = self
                .running_slot(report.run)
                .and_then(|slot| self.jobs.at_mut(slot))
            {
                job.set_progress(Some(report.progress));
            }
        }
    }

    /// The slot of the job of `run`, if it is `Running` at that attempt:
    /// the fence of everything a worker writes about a run.
    fn running_slot(&self, run: RunningAttempt) -> Option<Slot> {
        let slot = self.jobs.slot_of(run.id.get())?;
        let job = self.jobs.at(slot)?;
        (job.state == JobState::Running && job.attempt == run.attempt).then_some(slot)
    }

    // ---- the state machine ----------------------------------------------

    /// Changes the job in `slot` with `change` (which sets its new state and
    /// the fields that go with it), keeping every index and count right.
    fn transition(&mut self, slot: Slot, now: DateTime<Utc>, change: impl FnOnce(&mut Job)) {
        let Some(before) = self.jobs.at(slot).map(|job| job.state) else {
            return;
        };
        self.unlink(slot);
        let Some(job) = self.jobs.at_mut(slot) else {
            return;
        };
        change(job);
        let after = job.state;
        let id = job.id;
        match (before.is_finished(), after.is_finished()) {
            (false, true) => self.leave_unfinished(slot),
            (true, false) => {
                self.unfinished += 1;
                self.retention.forget(before, &self.jobs);
            }
            _ => {}
        }
        self.link(slot, now);
        if !before.is_finished() && after.is_finished() {
            let parents = match before {
                JobState::Awaiting => self.jobs.at(slot).map(|job| job.parents().to_vec()),
                _ => None,
            };
            let parents = parents.unwrap_or_default();
            self.job_ended(id, before, &parents, ParentEnd::Finished(after), now);
        }
    }

    /// Takes the job out of the index its state puts it in, and uncounts it.
    fn unlink(&mut self, slot: Slot) {
        let Some(job) = self.jobs.at(slot) else {
            return;
        };
        let Some(index) = self.queues.get_mut(job.queue as usize) else {
            return;
        };
        match job.state {
            JobState::Scheduled | JobState::Retryable => {
                index.remove_waiting(&(job.scheduled_at, job.id));
            }
            JobState::Available => {
                index.remove_ready(
                    job.kind,
                    job.version,
                    &(job.priority, job.scheduled_at, job.id),
                );
            }
            JobState::Running => {
                self.running.remove(&job.id);
                // a limited kind's run ends: its held-back jobs may start
                if !self.limited.is_empty()
                    && self.limited.contains_key(&job.kind)
                    && !self.wake.contains(&job.queue)
                {
                    self.wake.push(job.queue);
                }
            }
            // their retention entries are handled where they stop being finished
            JobState::Completed | JobState::Dead | JobState::Cancelled => {}
            // in no index until its parents let it go
            JobState::Awaiting => {}
        }
        decrement(&mut index.counts, job.state);
    }

    /// Puts the job into the index its state calls for, and counts it. A
    /// `Scheduled` or `Retryable` job whose time has come is made
    /// `Available` on the way.
    fn link(&mut self, slot: Slot, now: DateTime<Utc>) {
        let Some(job) = self.jobs.at_mut(slot) else {
            return;
        };
        let Some(index) = self.queues.get_mut(job.queue as usize) else {
            return;
        };
        if matches!(job.state, JobState::Scheduled | JobState::Retryable) && job.scheduled_at <= now
        {
            job.state = JobState::Available;
        }
        match job.state {
            JobState::Scheduled | JobState::Retryable => {
                index.push_waiting((job.scheduled_at, job.id));
                // a new earliest due time: idle fetch loops shorten their wait
                if index.next_due() == Some(job.scheduled_at) && !self.wake.contains(&job.queue) {
                    self.wake.push(job.queue);
                }
            }
            JobState::Available => {
                index.push_ready(
                    job.kind,
                    job.version,
                    (job.priority, job.scheduled_at, job.id),
                );
                if !self.wake.contains(&job.queue) {
                    self.wake.push(job.queue);
                }
            }
            JobState::Running => {
                self.running.insert(job.id);
            }
            JobState::Awaiting => {}
            JobState::Completed | JobState::Dead | JobState::Cancelled => {
                self.retention
                    .push(job.state, job.finished_at().unwrap_or(now), job.id);
            }
        }
        *index.counts.get_mut(job.state) += 1;
    }

    /// Bookkeeping for a job that finishes or is deleted unfinished: it no
    /// longer takes room or holds its unique key.
    fn leave_unfinished(&mut self, slot: Slot) {
        self.unfinished = self.unfinished.saturating_sub(1);
        if self.room_wanted {
            self.room_wanted = false;
            self.room_freed = true;
        }
        let Some(job) = self.jobs.at(slot) else {
            return;
        };
        let Some(key) = job.unique_key() else {
            return;
        };
        if let Some(holders) = self.unique.get_mut(&job.kind)
            && holders.get(key) == Some(&job.id)
        {
            holders.remove(key);
        }
    }

    fn wake(&mut self, queue: NameId) {
        if !self.wake.contains(&queue) {
            self.wake.push(queue);
        }
    }

    /// Makes the due waiting jobs of `queue` `Available`.
    fn promote(&mut self, queue: NameId, now: DateTime<Utc>) {
        let Some(index) = self.queues.get_mut(queue as usize) else {
            return;
        };
        while let Some(id) = index.pop_due(now) {
            let Some(job) = self
                .jobs
                .slot_of(id)
                .and_then(|slot| self.jobs.at_mut(slot))
                .filter(|job| matches!(job.state, JobState::Scheduled | JobState::Retryable))
            else {
                debug_assert!(false, "waiting job {id} is not waiting");
                continue;
            };
            decrement(&mut index.counts, job.state);
            job.state = JobState::Available;
            index.counts.available += 1;
            index.push_ready(job.kind, job.version, (job.priority, job.scheduled_at, id));
        }
    }

    fn promote_all(&mut self, now: DateTime<Utc>) {
        for queue in 0..self.queues.len() {
            self.promote(queue as NameId, now);
        }
    }
}

/// Stores a transition jobs-core decided, as given.
fn apply(job: &mut Job, transition: JobTransition, now: DateTime<Utc>) {
    job.state = transition.state;
    if let Some(at) = transition.scheduled_at {
        job.scheduled_at = at;
    }
    if !transition.attempt_counted {
        job.attempt = job.attempt.saturating_sub(1);
    }
    if let Some(error) = transition.error {
        job.push_error(error);
    }
    // the lease ends; a finished job keeps when it finished instead
    job.set_until(transition.state.is_finished().then_some(now));
}

fn decrement(counts: &mut QueueCounts, state: JobState) {
    let count = counts.get_mut(state);
    *count = count.saturating_sub(1);
}

mod admin;
mod batches;
mod flow;
mod leader;
mod parents;

#[cfg(test)]
pub(crate) mod tests;
