//! Finished jobs in the order they finished, so the oldest can be pruned
//! cheaply: after their retention period, and whenever more than
//! `max_finished` are kept.
//!
//! `Completed` jobs and failed ones (`Dead`, `Cancelled`) have different
//! retention periods, so each has its own line. An entry goes stale when its
//! job is retried or deleted; stale entries are skipped when they reach the
//! front, and a line much longer than its live jobs is compacted.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use jobs_core::JobState;

use crate::config::{Config, before};
use crate::job::Job;
use crate::table::JobTable;

/// Lines longer than twice their live jobs plus this are compacted.
const COMPACT_SLACK: usize = 1024;

/// One line of finished jobs.
#[derive(Debug, Default)]
struct Line {
    entries: VecDeque<(DateTime<Utc>, i64)>,
    /// How many jobs of this line are finished now (entries may be stale).
    live: usize,
}

/// Finished jobs, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Retention {
    completed: Line,
    failed: Line,
}

fn is_completed(state: JobState) -> bool {
    state == JobState::Completed
}

impl Retention {
    fn line(&mut self, state: JobState) -> &mut Line {
        if is_completed(state) {
            &mut self.completed
        } else {
            &mut self.failed
        }
    }

    /// Records that job `id` finished in `state` at `at`.
    pub(crate) fn push(&mut self, state: JobState, at: DateTime<Utc>, id: i64) {
        let line = self.line(state);
        line.entries.push_back((at, id));
        line.live += 1;
    }

    /// Records that a job finished in `state` was retried or deleted.
    pub(crate) fn forget(&mut self, state: JobState, jobs: &JobTable) {
        let line = self.line(state);
        line.live = line.live.saturating_sub(1);
        if line.entries.len() > 2 * line.live + COMPACT_SLACK {
            line.entries
                .retain(|&(at, id)| is_current(jobs, at, id, is_completed(state)));
        }
    }

    /// How many finished jobs are kept.
    pub(crate) fn len(&self) -> usize {
        self.completed.live + self.failed.live
    }

    /// Deletes finished jobs past their retention, then the oldest while
    /// more than `max_finished` are kept. Returns how many it deleted.
    /// `on_prune` sees each job just before it is deleted.
    pub(crate) fn prune(
        &mut self,
        jobs: &mut JobTable,
        config: &Config,
        now: DateTime<Utc>,
        mut on_prune: impl FnMut(&Job),
    ) -> u64 {
        let completed_cutoff = before(now, config.retention_completed);
        let failed_cutoff = before(now, config.retention_failed);
        let mut pruned = 0;
        loop {
            let completed = front(&mut self.completed, jobs, true);
            let failed = front(&mut self.failed, jobs, false);
            let over = self.len() > config.max_finished;
            // the older of the two fronts goes first when over the limit
            let take_completed = match (completed, failed) {
                (Some(c), Some(f)) if over => c <= f,
                (Some(_), None) if over => true,
                (None, Some(_)) if over => false,
                _ if completed.is_some_and(|at| at < completed_cutoff) => true,
                _ if failed.is_some_and(|at| at < failed_cutoff) => false,
                _ => return pruned,
            };
            let line = if take_completed {
                &mut self.completed
            } else {
                &mut self.failed
            };
            if let Some((_, id)) = line.entries.pop_front() {
                line.live = line.live.saturating_sub(1);
                if let Some(job) = jobs.remove(id) {
                    on_prune(&job);
                    pruned += 1;
                }
            }
        }
    }
}

/// Whether the entry `(at, id)` still describes a finished job.
fn is_current(jobs: &JobTable, at: DateTime<Utc>, id: i64, completed: bool) -> bool {
    jobs.get(id).is_some_and(|job| {
        job.state.is_finished()
            && is_completed(job.state) == completed
            && job.finished_at() == Some(at)
    })
}

/// The finish time of the oldest live entry, dropping stale ones before it.
fn front(line: &mut Line, jobs: &JobTable, completed: bool) -> Option<DateTime<Utc>> {
    while let Some(&(at, id)) = line.entries.front() {
        if is_current(jobs, at, id, completed) {
            return Some(at);
        }
        line.entries.pop_front();
    }
    None
}
