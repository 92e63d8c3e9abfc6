//! What the leader runs: maintenance (rescuing expired leases, pruning
//! finished jobs) and the cron ticks.

use chrono::{DateTime, Utc};
use jobs_core::AttemptError;
use jobs_core::JobState;
use jobs_core::backend::{MaintenanceReport, NewJob, ScheduleSpec, StoredSchedule};

use super::{Room, Store, WORKER_LOST, decrement};
use crate::job::Job;
use crate::table::Slot;

impl Store {
    /// Rescues running jobs whose lease expired and prunes finished jobs.
    pub(crate) fn maintain(&mut self, now: DateTime<Utc>) -> MaintenanceReport {
        let expired: Vec<Slot> = self
            .running
            .iter()
            .filter_map(|&id| self.jobs.slot_of(id))
            .filter(|&slot| {
                self.jobs
                    .at(slot)
                    .and_then(Job::lease_until)
                    .is_some_and(|until| until <= now)
            })
            .collect();
        for &slot in &expired {
            self.transition(slot, now, |job| rescue(job, now));
        }
        self.prune_inline(now);
        MaintenanceReport {
            rescued: expired.len() as u64,
            pruned: std::mem::take(&mut self.pruned_unreported),
        }
    }

    pub(crate) fn schedule_upsert(
        &mut self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
    ) -> StoredSchedule {
        self.schedules.upsert(spec, next_run_at)
    }

    pub(crate) fn schedule_list(&self) -> Vec<StoredSchedule> {
        self.schedules.list()
    }

    /// The tick's compare-and-set and its jobs, together. The jobs are
    /// stored even over capacity: a tick adds at most a few jobs, and
    /// refusing it would silently stop the schedule while the store is full.
    pub(crate) fn schedule_advance(
        &mut self,
        id: &str,
        expected_next: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
        jobs: Vec<NewJob>,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.schedules.advance(id, expected_next, next_run_at, now) {
            return false;
        }
        // an unbounded insert is never refused, and the lock held by the
        // caller makes the tick and its jobs one step
        let _ids = self.insert_many(jobs, now, Room::Unbounded);
        true
    }

    pub(crate) fn schedule_remove(&mut self, id: &str) -> bool {
        self.schedules.remove(id)
    }
    /// Prunes what retention asks for now; counted in the next report.
    pub(super) fn prune_inline(&mut self, now: DateTime<Utc>) {
        let queues = &mut self.queues;
        self.pruned_unreported += self
            .retention
            .prune(&mut self.jobs, &self.config, now, |job| {
                if let Some(index) = queues.get_mut(job.queue as usize) {
                    decrement(&mut index.counts, job.state);
                }
            });
    }
}

/// Sets the state of a running job whose lease expired: its attempt failed.
fn rescue(job: &mut Job, now: DateTime<Utc>) {
    job.push_error(AttemptError {
        attempt: job.attempt,
        message: WORKER_LOST.to_owned(),
        at: now,
    });
    if job.attempt < job.max_attempts {
        job.state = JobState::Retryable;
        job.scheduled_at = now;
        job.set_until(None);
    } else {
        job.state = JobState::Dead;
        job.set_until(Some(now));
    }
}
