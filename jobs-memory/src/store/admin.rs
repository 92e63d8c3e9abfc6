//! What a client does to stored jobs: read, list, count, retry, cancel,
//! delete.

use chrono::{DateTime, Utc};
use jobs_core::backend::ParentEnd;
use jobs_core::{Counts, FinishedMinute, JobFilter, JobId, JobState};

use super::Store;
use crate::names::NameId;
use crate::view::JobView;

impl Store {
    /// One job.
    pub(crate) fn get(&mut self, id: JobId, now: DateTime<Utc>) -> Option<JobView> {
        self.promote_all(now);
        let job = self.jobs.get(id.get())?;
        Some(JobView::of(job, &self.kinds, &self.queue_names))
    }

    /// The jobs matching `filter`, by id.
    pub(crate) fn list(&mut self, filter: &JobFilter, now: DateTime<Utc>) -> Vec<JobView> {
        self.promote_all(now);
        let queue = match filter
            .queue
            .as_deref()
            .map(|name| self.queue_names.get(name))
        {
            Some(None) => return Vec::new(),
            Some(Some(queue)) => Some(queue),
            None => None,
        };
        let kind = match filter.kind.as_deref().map(|name| self.kinds.get(name)) {
            Some(None) => return Vec::new(),
            Some(Some(kind)) => Some(kind),
            None => None,
        };
        self.jobs
            .iter()
            .filter(|job| {
                filter.state.is_none_or(|state| job.state == state)
                    && queue.is_none_or(|queue| job.queue == queue)
                    && kind.is_none_or(|kind| job.kind == kind)
                    && filter.batch.is_none_or(|batch| job.batch() == Some(batch))
            })
            .skip(filter.offset)
            .take(filter.limit)
            .map(|job| JobView::of(job, &self.kinds, &self.queue_names))
            .collect()
    }

    /// Job counts per queue and state; queues without jobs are left out.
    pub(crate) fn counts(&mut self, now: DateTime<Utc>) -> Counts {
        self.promote_all(now);
        let mut counts = Counts::default();
        for (queue, index) in self.queues.iter().enumerate() {
            let name = self.queue_names.name(queue as NameId);
            for state in JobState::ALL {
                let n = index.counts.get(state);
                if n > 0 {
                    counts.add(name, state, n);
                }
            }
            if let Some(oldest) = index.oldest_ready() {
                counts.note_oldest_available(name, oldest);
            }
        }
        counts
    }

    /// How many kept jobs finished in each minute since `since`.
    pub(crate) fn finished_per_minute(&self, since: DateTime<Utc>) -> Vec<FinishedMinute> {
        let mut minutes: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
        for job in self.jobs.iter() {
            let Some(at) = job.finished_at().filter(|&at| at >= since) else {
                continue;
            };
            let counts = minutes.entry(at.timestamp().div_euclid(60)).or_default();
            match job.state {
                JobState::Completed => counts.0 += 1,
                _ => counts.1 += 1,
            }
        }
        minutes
            .into_iter()
            .filter_map(|(minute, (completed, failed))| {
                Some(FinishedMinute {
                    minute: DateTime::from_timestamp(minute.checked_mul(60)?, 0)?,
                    completed,
                    failed,
                })
            })
            .collect()
    }

    /// Makes a `Dead`, `Cancelled`, `Retryable` or `Scheduled` job
    /// `Available` now, with one more attempt if its attempts are spent.
    /// Refused for a finished unique job whose key another unfinished job
    /// holds now. Room is not checked: the job may take the store over its
    /// capacity.
    pub(crate) fn retry(&mut self, id: JobId, now: DateTime<Utc>) -> bool {
        let id = id.get();
        let Some(queue) = self.jobs.get(id).map(|job| job.queue) else {
            return false;
        };
        self.promote(queue, now);
        let Some(slot) = self.jobs.slot_of(id) else {
            return false;
        };
        let Some(job) = self.jobs.at(slot) else {
            return false;
        };
        match job.state {
            JobState::Dead | JobState::Cancelled | JobState::Retryable | JobState::Scheduled => {}
            JobState::Available | JobState::Running | JobState::Completed | JobState::Awaiting => {
                return false;
            }
        }
        let key = job.unique_key().filter(|_| job.state.is_finished());
        if let Some(key) = key {
            let holders = self.unique.entry(job.kind).or_default();
            if holders.get(key).is_some_and(|&holder| holder != id) {
                return false;
            }
            holders.insert(Box::from(key), id);
        }
        self.transition(slot, now, |job| {
            job.state = JobState::Available;
            job.scheduled_at = now;
            job.set_until(None);
            if job.attempt >= job.max_attempts {
                job.max_attempts = job.attempt.saturating_add(1);
            }
        });
        true
    }

    /// Cancels a job that has not finished, running ones included.
    pub(crate) fn cancel(&mut self, id: JobId, now: DateTime<Utc>) -> bool {
        let Some(slot) = self.jobs.slot_of(id.get()) else {
            return false;
        };
        if self.jobs.at(slot).is_none_or(|job| job.state.is_finished()) {
            return false;
        }
        self.transition(slot, now, |job| {
            job.state = JobState::Cancelled;
            job.set_until(Some(now));
        });
        self.prune_over_limit();
        true
    }

    /// Deletes a job that is not running; returns whether it did. The
    /// jobs waiting on it learn it was deleted.
    pub(crate) fn delete(&mut self, id: JobId, now: DateTime<Utc>) -> bool {
        let id = id.get();
        let Some(slot) = self.jobs.slot_of(id) else {
            return false;
        };
        let Some((state, parents)) = self
            .jobs
            .at(slot)
            .map(|job| (job.state, job.parents().to_vec()))
        else {
            return false;
        };
        if state == JobState::Running {
            return false;
        }
        self.unlink(slot);
        if !state.is_finished() {
            self.leave_unfinished(slot);
        }
        self.jobs.remove(id);
        if state.is_finished() {
            self.retention.forget(state, &self.jobs);
        }
        self.job_ended(id, state, &parents, ParentEnd::Deleted, now);
        true
    }
}
