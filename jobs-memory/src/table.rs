//! The job table: every stored job, found by id, listed in id order.
//!
//! Jobs live densely in a slab (a `Vec` whose freed slots are reused) and a
//! B-tree maps each id to its slot. Storing the records themselves in the
//! B-tree would cost almost twice the memory: its nodes are only about half
//! full when keys arrive in increasing order, as ids do.

use std::collections::BTreeMap;

use crate::job::Job;

/// Where a job lives in the slab; valid until the next removal (which may
/// compact the slab).
pub(crate) type Slot = u32;

/// Slabs of at least this many slots are compacted when three quarters are
/// free, so a burst of jobs does not hold its memory for good.
const COMPACT_FROM: usize = 4096;

/// Every stored job.
#[derive(Debug, Default)]
pub(crate) struct JobTable {
    slots: Vec<Option<Job>>,
    free: Vec<Slot>,
    index: BTreeMap<i64, Slot>,
}

impl JobTable {
    /// Stores a job; its id must be new.
    pub(crate) fn insert(&mut self, job: Job) -> Slot {
        let id = job.id;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(job);
                slot
            }
            None => {
                // More than four billion jobs at once do not fit in memory,
                // so the slot number cannot overflow in practice.
                let slot = Slot::try_from(self.slots.len()).unwrap_or(Slot::MAX);
                self.slots.push(Some(job));
                slot
            }
        };
        self.index.insert(id, slot);
        slot
    }

    /// The slot of job `id`.
    pub(crate) fn slot_of(&self, id: i64) -> Option<Slot> {
        self.index.get(&id).copied()
    }

    /// The job in `slot`.
    pub(crate) fn at(&self, slot: Slot) -> Option<&Job> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// The job in `slot`, to change it.
    pub(crate) fn at_mut(&mut self, slot: Slot) -> Option<&mut Job> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Job `id`.
    pub(crate) fn get(&self, id: i64) -> Option<&Job> {
        self.at(self.slot_of(id)?)
    }

    /// Removes job `id` and returns it.
    pub(crate) fn remove(&mut self, id: i64) -> Option<Job> {
        let slot = self.index.remove(&id)?;
        let job = self.slots.get_mut(slot as usize)?.take();
        self.free.push(slot);
        if self.slots.len() >= COMPACT_FROM && self.index.len() < self.slots.len() / 4 {
            self.compact();
        }
        job
    }

    /// Moves every job to the front of a smaller slab. `O(n)`, but only
    /// after three quarters of the slab emptied, so `O(1)` per removal.
    fn compact(&mut self) {
        let mut slots = Vec::with_capacity(self.index.len() * 2);
        for slot in self.index.values_mut() {
            let job = self.slots.get_mut(*slot as usize).and_then(Option::take);
            *slot = Slot::try_from(slots.len()).unwrap_or(Slot::MAX);
            slots.push(job);
        }
        self.slots = slots;
        self.free = Vec::new();
    }

    /// Every job, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Job> + '_ {
        self.index
            .values()
            .filter_map(|&slot| self.slots.get(slot as usize)?.as_ref())
    }

    /// How many jobs are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use jobs_core::JobState;

    use super::*;
    use crate::job::JobSeed;

    fn job(id: i64) -> Job {
        let now = Utc::now();
        Job::new(
            JobSeed {
                id,
                args: "{}".into(),
                created_at: now,
                scheduled_at: now,
                max_attempts: 1,
                version: 1,
                kind: 0,
                queue: 0,
                priority: 0,
                unique_key: None,
                parents: Box::default(),
                batch: None,
                concurrency_key: None,
            },
            JobState::Available,
        )
    }

    #[test]
    fn finds_lists_and_reuses_slots() {
        let mut table = JobTable::default();
        for id in 1..=3 {
            table.insert(job(id));
        }
        let slot = table.slot_of(2).expect("stored");
        assert_eq!(table.remove(2).map(|job| job.id), Some(2));
        assert!(table.get(2).is_none());
        assert_eq!(table.insert(job(4)), slot, "the freed slot is reused");
        let ids: Vec<i64> = table.iter().map(|job| job.id).collect();
        assert_eq!(ids, [1, 3, 4]);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn a_mostly_empty_slab_shrinks_and_keeps_every_job() {
        let mut table = JobTable::default();
        let n = 2 * COMPACT_FROM as i64;
        for id in 1..=n {
            table.insert(job(id));
        }
        // keep every tenth job
        for id in (1..=n).filter(|id| id % 10 != 0) {
            assert_eq!(table.remove(id).map(|job| job.id), Some(id));
        }
        assert!(table.slots.len() < n as usize / 2, "compacted");
        let ids: Vec<i64> = table.iter().map(|job| job.id).collect();
        assert_eq!(ids, (10..=n).step_by(10).collect::<Vec<_>>());
        for id in (10..=n).step_by(10) {
            assert_eq!(table.get(id).map(|job| job.id), Some(id));
        }
    }
}
