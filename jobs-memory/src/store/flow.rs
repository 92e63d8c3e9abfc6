//! Flow control (SPEC §11): the claim of a kind with limits, and paused
//! queues. Everything here runs under the store's lock, which is what makes
//! a limit hold across every worker sharing the backend.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jobs_core::QueueInfo;
use jobs_core::backend::{FetchedBatch, FlowLimits, JobFetchParams, after, before};

use super::Store;
use crate::names::NameId;
use crate::ready::QueueIndex;

impl Store {
    /// Claims jobs of the request's one kind within `limits`: at most
    /// `concurrency.max` running (per key value when keyed), at most
    /// `rate.max` started in the window ending now.
    pub(super) fn fetch_limited(
        &mut self,
        queue: NameId,
        request: &JobFetchParams<'_>,
        limits: FlowLimits,
        now: DateTime<Utc>,
    ) -> FetchedBatch {
        self.promote(queue, now);
        let next_due_at = self
            .queues
            .get(queue as usize)
            .and_then(QueueIndex::next_due);
        let idle = FetchedBatch {
            next_due_at,
            ..FetchedBatch::default()
        };
        let (Some(&name), Some(kind)) = (
            request.kinds.first(),
            request.kinds.first().and_then(|name| self.kinds.get(name)),
        ) else {
            return idle;
        };
        let version = request.max_version(0);
        let starts = self.limited.entry(kind).or_default();
        let mut room = request.limit;
        if let Some(rate) = limits.rate {
            let window_start = before(now, rate.per);
            while starts.front().is_some_and(|&at| at <= window_start) {
                starts.pop_front();
            }
            room = room.min((rate.max as usize).saturating_sub(starts.len()));
        }
        let ids = match limits.concurrency {
            _ if room == 0 => Vec::new(),
            None => self.ready_of(queue, &[(kind, version)], room),
            Some(limit) if limit.key.is_none() => {
                let running = self.running_of(kind, |_| ()).len();
                let left = (limit.max as usize).saturating_sub(running);
                self.ready_of(queue, &[(kind, version)], room.min(left))
            }
            Some(limit) => {
                let mut running: HashMap<Option<Box<str>>, u32> = HashMap::new();
                for key in self.running_of(kind, |job| job.concurrency_key().map(Box::from)) {
                    *running.entry(key).or_default() += 1;
                }
                let jobs = &self.jobs;
                match self.queues.get_mut(queue as usize) {
                    Some(index) => index.pop_ready_where(kind, version, room, |id| {
                        let key = jobs
                            .get(id)
                            .and_then(|job| job.concurrency_key().map(Box::from));
                        let count = running.entry(key).or_default();
                        let free = *count < limit.max;
                        if free {
                            *count += 1;
                        }
                        free
                    }),
                    None => Vec::new(),
                }
            }
        };
        let mut names: Vec<Option<&'static str>> = vec![None; self.kinds.len()];
        names[kind as usize] = Some(name);
        let jobs = self.claim(queue, &ids, &names, request, now);
        let mut held_until = None;
        if let Some(rate) = limits.rate
            && let Some(starts) = self.limited.get_mut(&kind)
        {
            starts.extend(std::iter::repeat_n(now, jobs.len()));
            let held = self
                .queues
                .get(queue as usize)
                .is_some_and(|index| index.has_ready(kind, version));
            if held && starts.len() >= rate.max as usize {
                held_until = starts.front().map(|&oldest| after(oldest, rate.per));
            }
        }
        FetchedBatch {
            jobs,
            next_due_at,
            held_until,
        }
    }

    /// Takes up to `limit` ready jobs of `kinds` from `queue`.
    fn ready_of(&mut self, queue: NameId, kinds: &[(NameId, u32)], limit: usize) -> Vec<i64> {
        match self.queues.get_mut(queue as usize) {
            Some(index) => index.pop_ready(kinds, limit),
            None => Vec::new(),
        }
    }

    /// `what` of every running job of `kind`.
    fn running_of<T>(&self, kind: NameId, what: impl Fn(&crate::job::Job) -> T) -> Vec<T> {
        self.running
            .iter()
            .filter_map(|&id| self.jobs.get(id))
            .filter(|job| job.kind == kind)
            .map(what)
            .collect()
    }

    /// Pauses `queue`; returns whether it was running.
    pub(crate) fn pause(&mut self, queue: &str) -> bool {
        self.paused.insert(Box::from(queue))
    }

    /// Resumes `queue`; returns whether it was paused.
    pub(crate) fn resume(&mut self, queue: &str) -> bool {
        self.paused.remove(queue)
    }

    /// Every queue with jobs or paused, by name.
    pub(crate) fn queue_list(&self) -> Vec<QueueInfo> {
        let mut queues: Vec<QueueInfo> = self
            .queues
            .iter()
            .enumerate()
            .filter(|(_, index)| {
                jobs_core::JobState::ALL
                    .iter()
                    .any(|&state| index.counts.get(state) > 0)
            })
            .map(|(id, _)| {
                let name = self.queue_names.name(id as NameId);
                QueueInfo::new(&**name, self.paused.contains(&**name))
            })
            .collect();
        for name in &self.paused {
            if queues.iter().all(|queue| *queue.name != **name) {
                queues.push(QueueInfo::new(&**name, true));
            }
        }
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        queues
    }
}
