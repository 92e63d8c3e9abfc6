//! What the leader asks of the store: the running jobs whose lease
//! expired and the transitions chosen for them, pruning, the leadership
//! itself, and the schedules' ticks.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::backend::{
    ExpiredJob, JobPruneParams, JobTransition, RunningAttempt, ScheduleAdvanceParams,
    ScheduleRestart, ScheduleSpec, StoredSchedule, after,
};

use super::{Room, Store, apply, decrement};
use crate::job::Job;

impl Store {
    /// Running jobs whose lease ended by `now`, the longest expired first.
    pub(crate) fn expired(&self, limit: usize, now: DateTime<Utc>) -> Vec<ExpiredJob> {
        let mut expired: Vec<(DateTime<Utc>, ExpiredJob)> = self
            .running
            .iter()
            .filter_map(|&id| self.jobs.get(id))
            .filter_map(|job| {
                let until = job.lease_until().filter(|&until| until <= now)?;
                Some((until, self.expired_job(job)))
            })
            .collect();
        expired.sort_by_key(|(until, job)| (*until, job.run.id));
        expired
            .into_iter()
            .take(limit)
            .map(|(_, job)| job)
            .collect()
    }

    fn expired_job(&self, job: &Job) -> ExpiredJob {
        ExpiredJob {
            run: RunningAttempt {
                id: jobs_core::JobId::new(job.id),
                attempt: job.attempt,
            },
            kind: String::from(&**self.kinds.name(job.kind)),
            max_attempts: job.max_attempts,
            worker_id: None,
        }
    }

    /// Applies each transition whose job is still `Running` at that attempt
    /// with its lease expired; returns how many applied.
    pub(crate) fn rescue_many(
        &mut self,
        transitions: Vec<JobTransition>,
        now: DateTime<Utc>,
    ) -> u64 {
        let mut rescued = 0;
        for transition in transitions {
            let Some(slot) = self.running_slot(transition.run) else {
                continue;
            };
            let expired = self
                .jobs
                .at(slot)
                .and_then(Job::lease_until)
                .is_some_and(|until| until <= now);
            if expired {
                self.transition(slot, now, |job| apply(job, transition, now));
                rescued += 1;
            }
        }
        self.prune_over_limit();
        rescued
    }

    /// Deletes finished jobs past the cut-offs, at most `limit`.
    pub(crate) fn prune(&mut self, params: JobPruneParams) -> u64 {
        let queues = &mut self.queues;
        let pruned = self.retention.prune_before(&mut self.jobs, params, |job| {
            if let Some(index) = queues.get_mut(job.queue as usize) {
                decrement(&mut index.counts, job.state);
            }
        });
        self.forget_empty_batches(params.completed_before.min(params.failed_before));
        pruned
    }

    /// Deletes the oldest finished jobs while more than `max_finished` are
    /// kept, so memory stays bounded under any throughput.
    pub(super) fn prune_over_limit(&mut self) {
        let queues = &mut self.queues;
        self.retention
            .prune_over(&mut self.jobs, self.config.max_finished, |job| {
                if let Some(index) = queues.get_mut(job.queue as usize) {
                    decrement(&mut index.counts, job.state);
                }
            });
    }

    /// Grants or renews `worker`'s term unless another holds an unexpired
    /// one. Returns whether `worker` leads.
    pub(crate) fn leader_elect(&mut self, worker: &str, ttl: Duration, now: DateTime<Utc>) -> bool {
        match &self.leader {
            Some((holder, until)) if &**holder != worker && *until > now => false,
            _ => {
                self.leader = Some((Box::from(worker), after(now, ttl)));
                true
            }
        }
    }

    /// Ends `worker`'s term if it holds it.
    pub(crate) fn leader_resign(&mut self, worker: &str) {
        if self
            .leader
            .as_ref()
            .is_some_and(|(holder, _)| &**holder == worker)
        {
            self.leader = None;
        }
    }

    pub(crate) fn schedule_upsert(
        &mut self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
        declared_until: DateTime<Utc>,
        restart: ScheduleRestart,
    ) -> StoredSchedule {
        self.schedules
            .upsert(spec, next_run_at, declared_until, restart)
    }

    pub(crate) fn schedule_declare(
        &mut self,
        ids: &[&str],
        kinds: &[&str],
        declared_until: DateTime<Utc>,
    ) {
        self.schedules.declare(ids, kinds, declared_until);
    }

    pub(crate) fn schedule_list(&self) -> Vec<StoredSchedule> {
        self.schedules.list()
    }

    /// The tick's compare-and-set and its jobs, together. The jobs are
    /// stored even over capacity: a tick adds at most a few jobs, and
    /// refusing it would silently stop the schedule while the store is full.
    pub(crate) fn schedule_advance(
        &mut self,
        params: ScheduleAdvanceParams<'_>,
        now: DateTime<Utc>,
    ) -> bool {
        let advanced =
            self.schedules
                .advance(params.spec, params.expected_next, params.next_run_at, now);
        if !advanced {
            return false;
        }
        // an unbounded insert is never refused, and the lock held by the
        // caller makes the tick and its jobs one step
        let _ids = self.insert_many(params.jobs, now, Room::Unbounded);
        true
    }

    pub(crate) fn schedule_remove(&mut self, id: &str) -> bool {
        self.schedules.remove(id)
    }
}
