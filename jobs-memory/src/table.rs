//! The job table: every stored job, found by id, listed in id order.
//!
//! Jobs live densely in a slab (a `Vec` whose freed slots are reused) and
//! an [`IdIndex`] maps each id to its slot. Ids are handed out in
//! increasing order, so the index keeps them in pages of consecutive ids:
//! a lookup is an array access, and a million jobs cost 4 MB of index
//! instead of the 24 MB of a B-tree (whose nodes stay half full when keys
//! arrive in order).

use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

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
    index: IdIndex,
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
                let slot = Slot::try_from(self.slots.len()).unwrap_or(Slot::MAX - 1);
                self.slots.push(Some(job));
                slot
            }
        };
        self.index.insert(id, slot);
        slot
    }

    /// The slot of job `id`.
    pub(crate) fn slot_of(&self, id: i64) -> Option<Slot> {
        self.index.get(id)
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
        let slot = self.index.remove(id)?;
        let job = self.slots.get_mut(slot as usize)?.take();
        self.free.push(slot);
        if self.slots.len() >= COMPACT_FROM && self.index.len() < self.slots.len() / 4 {
            self.compact();
        }
        job
    }

    /// Moves the jobs beyond the first `len` slots into the free ones
    /// among them, then shrinks the slab in place. `O(n)`, but only after
    /// three quarters of the slab emptied, so `O(1)` per removal. (Copying
    /// every job to a new slab instead would touch as many fresh pages.)
    fn compact(&mut self) {
        let live = self.index.len();
        let mut hole = 0;
        let mut from = self.slots.len();
        loop {
            while self.slots.get(hole).is_some_and(Option::is_some) {
                hole += 1;
            }
            if hole >= live {
                break;
            }
            // as many jobs lie beyond `live` as there are holes before it
            from -= 1;
            while from > hole && self.slots.get(from).is_some_and(Option::is_none) {
                from -= 1;
            }
            if from <= hole {
                break;
            }
            let job = self.slots.get_mut(from).and_then(Option::take);
            if let Some(job) = &job {
                self.index
                    .insert(job.id, Slot::try_from(hole).unwrap_or(Slot::MAX - 1));
            }
            if let Some(entry) = self.slots.get_mut(hole) {
                *entry = job;
            }
        }
        self.slots.truncate(live);
        self.slots.shrink_to(live * 2);
        self.free = Vec::new();
    }

    /// Every job, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Job> + '_ {
        self.index
            .slots()
            .filter_map(|slot| self.slots.get(slot as usize)?.as_ref())
    }

    /// How many jobs are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

/// Ids per page of the index.
const PAGE: usize = 256;

/// An unused entry of a page.
const VACANT: Slot = Slot::MAX;

/// Runs of emptied pages shorter than this are kept in `recent` (see
/// [`IdIndex::old`]).
const PAGE_SLACK: usize = 64;

/// The slots of `PAGE` consecutive ids.
#[derive(Debug)]
struct Page {
    slots: [Slot; PAGE],
    /// Entries that are not [`VACANT`].
    live: u32,
}

impl Page {
    fn new() -> Box<Self> {
        Box::new(Page {
            slots: [VACANT; PAGE],
            live: 0,
        })
    }

    fn live_slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.slots.iter().copied().filter(|&slot| slot != VACANT)
    }
}

/// Job ids to slab slots, in id order.
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    /// The pages from page number `first` on, at `number - first`; `None`
    /// for a page without ids.
    recent: VecDeque<Option<Box<Page>>>,
    first: i64,
    /// The pages of `recent` that are `Some`.
    recent_pages: usize,
    /// Pages before `first` that still hold ids: a job that stays while
    /// many later ones come and go (one scheduled far ahead) would
    /// otherwise keep a growing run of empty pages in `recent`.
    old: BTreeMap<i64, Box<Page>>,
    len: usize,
}

/// The page number of `id` and its place in that page.
fn split(id: i64) -> (i64, usize) {
    (
        id.div_euclid(PAGE as i64),
        id.rem_euclid(PAGE as i64) as usize,
    )
}

impl IdIndex {
    fn page(&self, number: i64) -> Option<&Page> {
        if number >= self.first && !self.recent.is_empty() {
            let at = usize::try_from(number - self.first).ok()?;
            self.recent.get(at)?.as_deref()
        } else {
            self.old.get(&number).map(|page| &**page)
        }
    }

    /// The slot of `id`.
    pub(crate) fn get(&self, id: i64) -> Option<Slot> {
        let (number, at) = split(id);
        let slot = *self.page(number)?.slots.get(at)?;
        (slot != VACANT).then_some(slot)
    }

    /// Records that `id` is in `slot` (a slot below [`VACANT`]).
    pub(crate) fn insert(&mut self, id: i64, slot: Slot) {
        let (number, at) = split(id);
        let in_recent = if self.recent.is_empty() {
            // every old page must stay before `first`
            let after_old = self
                .old
                .last_key_value()
                .is_none_or(|(&last, _)| last < number);
            if after_old {
                self.first = number;
            }
            after_old
        } else {
            number >= self.first
        };
        let page = if !in_recent {
            self.old.entry(number).or_insert_with(Page::new)
        } else {
            let Ok(index) = usize::try_from(number - self.first) else {
                return;
            };
            if index >= self.recent.len() {
                self.recent.resize_with(index + 1, || None);
            }
            let entry = &mut self.recent[index];
            if entry.is_none() {
                self.recent_pages += 1;
            }
            entry.get_or_insert_with(Page::new)
        };
        let entry = &mut page.slots[at];
        if *entry == VACANT {
            page.live += 1;
            self.len += 1;
        }
        *entry = slot;
    }

    /// Forgets `id`; returns its slot.
    pub(crate) fn remove(&mut self, id: i64) -> Option<Slot> {
        let (number, at) = split(id);
        if number >= self.first && !self.recent.is_empty() {
            let index = usize::try_from(number - self.first).ok()?;
            let entry = self.recent.get_mut(index)?;
            let page = entry.as_mut()?;
            let slot = std::mem::replace(page.slots.get_mut(at)?, VACANT);
            if slot == VACANT {
                return None;
            }
            page.live -= 1;
            self.len -= 1;
            if page.live == 0 {
                *entry = None;
                self.recent_pages -= 1;
                self.trim();
            }
            Some(slot)
        } else {
            let page = self.old.get_mut(&number)?;
            let slot = std::mem::replace(page.slots.get_mut(at)?, VACANT);
            if slot == VACANT {
                return None;
            }
            page.live -= 1;
            self.len -= 1;
            if page.live == 0 {
                self.old.remove(&number);
            }
            Some(slot)
        }
    }

    /// Drops the empty pages at both ends of `recent`, and moves the pages
    /// at its front to `old` while most of `recent` is empty pages.
    fn trim(&mut self) {
        while self.recent.back().is_some_and(Option::is_none) {
            self.recent.pop_back();
        }
        while self.recent.len() > 2 * self.recent_pages + PAGE_SLACK {
            match self.recent.pop_front() {
                Some(Some(page)) => {
                    self.recent_pages -= 1;
                    self.old.insert(self.first, page);
                }
                Some(None) => {}
                None => break,
            }
            self.first += 1;
        }
        while self.recent.front().is_some_and(Option::is_none) {
            self.recent.pop_front();
            self.first += 1;
        }
    }

    /// How many ids are recorded.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn pages(&self) -> impl Iterator<Item = &Page> + '_ {
        self.old
            .values()
            .map(|page| &**page)
            .chain(self.recent.iter().filter_map(|page| page.as_deref()))
    }

    /// Every slot, in id order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.pages().flat_map(Page::live_slots)
    }
}

/// Hashes job ids (and other integers spread as evenly), for the sets
/// and maps keyed by them: one multiplication instead of SipHash.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing: the high bits, which hashbrown's control bytes
        // use, depend on every bit of the input
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

/// The hasher of [`IdHasher`] maps and sets.
pub(crate) type IdBuild = BuildHasherDefault<IdHasher>;

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
        assert!(table.slots.capacity() < n as usize / 2, "memory given back");
        // the compacted slab takes new jobs and removals as before
        for id in n + 1..=n + 5 {
            table.insert(job(id));
        }
        assert_eq!(table.remove(10).map(|job| job.id), Some(10));
        assert_eq!(table.get(n + 5).map(|job| job.id), Some(n + 5));
        assert_eq!(table.iter().count(), table.len());
    }

    #[test]
    fn a_long_lived_id_does_not_keep_the_pages_after_it() {
        let mut index = IdIndex::default();
        let n = 200 * PAGE as i64;
        for id in 1..=n {
            index.insert(id, id as Slot);
        }
        // id 7 stays while the others come and go
        for id in (1..=n).filter(|&id| id != 7) {
            assert_eq!(index.remove(id), Some(id as Slot));
        }
        assert_eq!(index.remove(1), None, "removed once");
        assert_eq!(index.len(), 1);
        assert!(index.recent.len() <= PAGE_SLACK, "{}", index.recent.len());
        for id in n + 1..=3 * n {
            index.insert(id, id as Slot);
            if id % 3 != 0 {
                assert_eq!(index.remove(id), Some(id as Slot));
            }
        }
        assert!(index.recent.len() <= 2 * index.recent_pages + PAGE_SLACK + 1);
        assert_eq!(index.get(7), Some(7));
        assert_eq!(index.get(8), None);
        let expected: Vec<Slot> = std::iter::once(7)
            .chain(
                (n + 1..=3 * n)
                    .filter(|id| id % 3 == 0)
                    .map(|id| id as Slot),
            )
            .collect();
        assert_eq!(index.slots().collect::<Vec<_>>(), expected, "in id order");
        assert_eq!(index.len(), expected.len());
        for id in (n + 1..=3 * n).filter(|id| id % 3 == 0) {
            assert_eq!(index.get(id), Some(id as Slot));
            assert_eq!(index.remove(id), Some(id as Slot));
        }
        assert_eq!(index.remove(7), Some(7));
        assert_eq!(index.len(), 0);
        assert!(index.old.is_empty() && index.recent.is_empty());
        // and it starts afresh anywhere
        index.insert(5, 1);
        index.insert(3 * PAGE as i64, 2);
        assert_eq!(index.slots().collect::<Vec<_>>(), [1, 2]);
    }
}
