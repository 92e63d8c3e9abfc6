//! Jobs waiting on parents (`.after(id)`, batches): who waits on whom, and
//! what a parent's end does to its children. The rules are jobs-core's
//! ([`judge_parents`](jobs_core::backend::judge_parents),
//! [`ParentEnd`]); this is their bookkeeping.
//!
//! An end is queued and passed on by [`Store::settle`] in a loop rather
//! than by recursion, so a chain of a hundred thousand continuations
//! cancelled in cascade cannot overflow the stack.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jobs_core::backend::{JobParent, ParentCondition, ParentEnd, broken_error};
use jobs_core::{JobId, JobState};

use super::Store;

/// Who waits on whom.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    /// Parent id → the children waiting on it, with what each needs.
    children: HashMap<i64, Vec<(i64, ParentCondition)>>,
    /// Child id → how many parents it still waits for.
    pending: HashMap<i64, usize>,
    /// Ends not passed on yet.
    ended: Vec<(i64, ParentEnd)>,
    /// `settle` is running: ends are queued, not passed on at once.
    settling: bool,
}

impl Waits {
    /// Records that `child` waits for `parents` (each unfinished).
    pub(crate) fn wait(&mut self, child: i64, parents: &[JobParent]) {
        for parent in parents {
            self.children
                .entry(parent.id.get())
                .or_default()
                .push((child, parent.condition));
        }
        self.pending.insert(child, parents.len());
    }

    /// Whether some job waits on `parent`.
    pub(crate) fn has_children(&self, parent: i64) -> bool {
        !self.children.is_empty() && self.children.contains_key(&parent)
    }

    /// Forgets what `child` (which stopped waiting) waited for.
    fn forget_child(&mut self, child: i64, parents: &[JobId]) {
        for parent in parents {
            if let Some(children) = self.children.get_mut(&parent.get()) {
                children.retain(|&(waiting, _)| waiting != child);
                if children.is_empty() {
                    self.children.remove(&parent.get());
                }
            }
        }
        self.pending.remove(&child);
    }

    /// How many children wait (for the invariant checks).
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.pending.len()
    }
}

impl Store {
    /// Bookkeeping for job `id`, which just left state `before` for a
    /// finished state or was deleted (`end`): it waits for nothing any
    /// more, and its children learn how it ended.
    pub(super) fn job_ended(
        &mut self,
        id: i64,
        before: JobState,
        parents: &[JobId],
        end: ParentEnd,
        now: DateTime<Utc>,
    ) {
        if before == JobState::Awaiting {
            self.waits.forget_child(id, parents);
        }
        if self.waits.has_children(id) {
            self.waits.ended.push((id, end));
            self.settle(now);
        }
    }

    /// Passes every queued end on to the children waiting on it, and the
    /// ends that causes (a cancelled child's own children), until none is
    /// left.
    fn settle(&mut self, now: DateTime<Utc>) {
        if self.waits.settling {
            return;
        }
        self.waits.settling = true;
        while let Some((parent, end)) = self.waits.ended.pop() {
            let children = self.waits.children.remove(&parent).unwrap_or_default();
            for (child, condition) in children {
                let Some(slot) = self.jobs.slot_of(child) else {
                    continue;
                };
                if self.jobs.at(slot).map(|job| job.state) != Some(JobState::Awaiting) {
                    continue;
                }
                if end.satisfies(condition) {
                    let left = self.waits.pending.get_mut(&child).map(|left| {
                        *left = left.saturating_sub(1);
                        *left
                    });
                    if left == Some(0) {
                        self.waits.pending.remove(&child);
                        // `link` makes it `Available` if its time has come
                        self.transition(slot, now, |job| job.state = JobState::Scheduled);
                    }
                } else {
                    let parent = JobId::new(parent);
                    self.transition(slot, now, |job| {
                        job.state = JobState::Cancelled;
                        job.push_error(broken_error(parent, end, job.attempt, now));
                        job.set_until(Some(now));
                    });
                }
            }
        }
        self.waits.settling = false;
        self.prune_over_limit();
    }
}
