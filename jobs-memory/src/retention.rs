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
use jobs_core::backend::JobPruneParams;

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

    /// Deletes finished jobs that finished before the cut-offs, at most
    /// `limit`. Returns how many it deleted; `on_prune` sees each job just
    /// before it is deleted.
    pub(crate) fn prune_before(
        &mut self,
        jobs: &mut JobTable,
        params: JobPruneParams,
        mut on_prune: impl FnMut(&Job),
    ) -> u64 {
        let mut pruned = 0;
        while pruned < params.limit as u64 {
            let take_completed = match (
                front(&mut self.completed, jobs, true),
                front(&mut self.failed, jobs, false),
            ) {
                (Some(at), _) if at < params.completed_before => true,
                (_, Some(at)) if at < params.failed_before => false,
                _ => break,
            };
            match self.pop(take_completed, jobs, &mut on_prune) {
                0 => break,
                one => pruned += one,
            }
        }
        pruned
    }

    /// Deletes the oldest finished jobs while more than `max` are kept.
    /// Returns how many it deleted.
    pub(crate) fn prune_over(
        &mut self,
        jobs: &mut JobTable,
        max: usize,
        mut on_prune: impl FnMut(&Job),
    ) -> u64 {
        let mut pruned = 0;
        while self.len() > max {
            // the older of the two fronts goes first
            let take_completed = match (
                front(&mut self.completed, jobs, true),
                front(&mut self.failed, jobs, false),
            ) {
                (Some(completed), Some(failed)) => completed <= failed,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            match self.pop(take_completed, jobs, &mut on_prune) {
                0 => break,
                one => pruned += one,
            }
        }
        pruned
    }

    /// Deletes the front job of a line; returns 1 if it deleted one.
    fn pop(
        &mut self,
        completed: bool,
        jobs: &mut JobTable,
        on_prune: &mut impl FnMut(&Job),
    ) -> u64 {
        let line = if completed {
            &mut self.completed
        } else {
            &mut self.failed
        };
        let Some((_, id)) = line.entries.pop_front() else {
            return 0;
        };
        line.live = line.live.saturating_sub(1);
        match jobs.remove(id) {
            Some(job) => {
                on_prune(&job);
                1
            }
            None => 0,
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
