//! One queue's indexes: the jobs ready to run, per kind, in the order they
//! are claimed; the jobs waiting for a time, in time order; and the queue's
//! counts per state.
//!
//! Ready jobs are kept per kind and version so that a fetch for the kinds a
//! worker knows never has to step over jobs of kinds it does not know, nor
//! over jobs newer than it knows (a rolling deploy): each fetch merges the
//! heads of the requested kinds' lanes up to each kind's version. Almost
//! every kind has one version in a queue, so that is one lane.
//!
//! Most jobs become ready in claim order (same priority, enqueued now), so
//! each kind keeps those in a sorted lane (a `VecDeque`: appended and taken
//! in `O(1)`, 24 bytes a job) and only the rest (a higher priority, an
//! earlier time) in a B-tree, which costs twice the memory and `O(log n)`.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use jobs_core::QueueCounts;

use crate::names::NameId;

/// The claim order of a ready job: priority (lower first), then time, then id.
pub(crate) type ReadyKey = (i16, DateTime<Utc>, i64);

/// The order of a waiting job: when it becomes due, then id.
pub(crate) type WaitKey = (DateTime<Utc>, i64);

/// Emptied lanes with room for more jobs than this give it back.
const SHRINK_FROM: usize = 1024;

/// Lanes with more removed entries than this and than live ones are compacted.
const COMPACT_AFTER: usize = 1024;

/// One queue's indexes and counts.
#[derive(Debug, Default)]
pub(crate) struct QueueIndex {
    /// Where each kind's ready jobs are in `ready`, by kind id (kind ids are
    /// small and dense): one `(version, position)` per version ever ready
    /// here, sorted by version; empty for kinds never ready here.
    kinds: Vec<Vec<(u32, u32)>>,
    ready: Vec<KindReady>,
    waiting: BTreeSet<WaitKey>,
    /// Jobs of this queue per state.
    pub(crate) counts: QueueCounts,
    /// The lanes a fetch takes from, kept to be reused by the next.
    lanes: Vec<usize>,
}

/// The ready jobs of one kind.
#[derive(Debug, Default)]
struct KindReady {
    /// Jobs that arrived in claim order, sorted. A removed entry stays in
    /// place with its id negated (ids are positive), which keeps the lane
    /// sorted by [`live`] for binary search.
    lane: VecDeque<ReadyKey>,
    /// Jobs that arrived ahead of the lane's last one.
    others: BTreeSet<ReadyKey>,
    /// How many lane entries are removed.
    removed: usize,
}

/// A lane entry's key as it was before any removal.
fn live(key: &ReadyKey) -> ReadyKey {
    (key.0, key.1, key.2.abs())
}

impl KindReady {
    fn push(&mut self, key: ReadyKey) {
        if self.lane.back().is_none_or(|back| live(back) < key) {
            self.lane.push_back(key);
        } else {
            self.others.insert(key);
        }
    }

    fn remove(&mut self, key: &ReadyKey) -> bool {
        if self.others.remove(key) {
            return true;
        }
        let Ok(position) = self.lane.binary_search_by(|entry| live(entry).cmp(key)) else {
            return false;
        };
        let entry = &mut self.lane[position];
        if entry.2 < 0 {
            return false;
        }
        entry.2 = -entry.2;
        self.removed += 1;
        if self.removed > COMPACT_AFTER && self.removed > self.lane.len() / 2 {
            self.lane.retain(|entry| entry.2 > 0);
            self.removed = 0;
        }
        true
    }

    /// The best ready job, dropping removed entries before it.
    fn first(&mut self) -> Option<ReadyKey> {
        while self.lane.front().is_some_and(|front| front.2 < 0) {
            self.lane.pop_front();
            self.removed -= 1;
        }
        match (self.lane.front(), self.others.first()) {
            (Some(lane), Some(other)) => Some(*lane.min(other)),
            (lane, other) => lane.or(other).copied(),
        }
    }

    fn pop_first(&mut self) -> Option<ReadyKey> {
        let first = self.first()?;
        if self.lane.front() != Some(&first) {
            return self.others.pop_first();
        }
        let popped = self.lane.pop_front();
        if self.lane.is_empty() && self.lane.capacity() > SHRINK_FROM {
            // a drained burst gives its memory back
            self.lane = VecDeque::new();
        }
        popped
    }

    /// The ready jobs in claim order, without taking them.
    fn in_order(&self) -> impl Iterator<Item = ReadyKey> + '_ {
        let mut lane = self.lane.iter().filter(|key| key.2 > 0).copied().peekable();
        let mut others = self.others.iter().copied().peekable();
        std::iter::from_fn(move || match (lane.peek(), others.peek()) {
            (Some(a), Some(b)) if b < a => others.next(),
            (Some(_), _) => lane.next(),
            (None, _) => others.next(),
        })
    }

    fn is_empty(&self) -> bool {
        self.lane.len() == self.removed && self.others.is_empty()
    }
}

impl QueueIndex {
    /// Adds a ready job of `kind` at `version`.
    pub(crate) fn push_ready(&mut self, kind: NameId, version: u32, key: ReadyKey) {
        let position = match self.position(kind, version) {
            Some(position) => position,
            None => {
                let index = kind as usize;
                if self.kinds.len() <= index {
                    self.kinds.resize_with(index + 1, Vec::new);
                }
                self.ready.push(KindReady::default());
                let position = self.ready.len() - 1;
                let versions = &mut self.kinds[index];
                let at = versions.partition_point(|&(v, _)| v < version);
                // as many lanes as kinds and versions: far below `u32::MAX`
                versions.insert(at, (version, position as u32));
                position
            }
        };
        self.ready[position].push(key);
    }

    /// Removes a ready job; returns whether it was there.
    pub(crate) fn remove_ready(&mut self, kind: NameId, version: u32, key: &ReadyKey) -> bool {
        match self.position(kind, version) {
            Some(position) => self.ready[position].remove(key),
            None => false,
        }
    }

    /// Where the ready jobs of `kind` at `version` are in `ready`.
    fn position(&self, kind: NameId, version: u32) -> Option<usize> {
        let versions = self.kinds.get(kind as usize)?;
        versions
            .iter()
            .find(|&&(v, _)| v == version)
            .map(|&(_, position)| position as usize)
    }

    /// Takes up to `limit` ready jobs of the given kinds, each up to its
    /// version, best first, and returns their ids. Jobs of other kinds and
    /// newer versions are not looked at.
    pub(crate) fn pop_ready(&mut self, kinds: &[(NameId, u32)], limit: usize) -> Vec<i64> {
        let mut ids = Vec::new();
        self.pop_ready_into(kinds, limit, &mut ids);
        ids
    }

    /// [`pop_ready`](Self::pop_ready) into `ids`, which it clears first.
    pub(crate) fn pop_ready_into(
        &mut self,
        kinds: &[(NameId, u32)],
        limit: usize,
        ids: &mut Vec<i64>,
    ) {
        ids.clear();
        let mut positions = std::mem::take(&mut self.lanes);
        positions.clear();
        positions.extend(
            kinds
                .iter()
                .filter_map(|&(kind, max)| self.kinds.get(kind as usize).map(|v| (v, max)))
                .flat_map(|(versions, max)| {
                    versions
                        .iter()
                        .take_while(move |&&(version, _)| version <= max)
                        .map(|&(_, position)| position as usize)
                })
                .filter(|&position| !self.ready[position].is_empty()),
        );
        positions.sort_unstable();
        positions.dedup();
        self.pop_from(&positions, limit, ids);
        self.lanes = positions;
    }

    fn pop_from(&mut self, positions: &[usize], limit: usize, ids: &mut Vec<i64>) {
        if let [only] = positions[..] {
            let ready = &mut self.ready[only];
            while ids.len() < limit {
                match ready.pop_first() {
                    Some((_, _, id)) => ids.push(id),
                    None => break,
                }
            }
            return;
        }
        while ids.len() < limit {
            let mut best: Option<(ReadyKey, usize)> = None;
            for &position in positions {
                if let Some(first) = self.ready[position].first()
                    && best.is_none_or(|(key, _)| first < key)
                {
                    best = Some((first, position));
                }
            }
            let Some((_, position)) = best else { break };
            if let Some((_, _, id)) = self.ready[position].pop_first() {
                ids.push(id);
            }
        }
    }

    /// Takes up to `limit` ready jobs of `kind` (up to `max_version`) that
    /// `accept` takes, best first, stepping over the ones it refuses (which
    /// stay ready): the claim of a kind whose concurrency is kept per key.
    pub(crate) fn pop_ready_where(
        &mut self,
        kind: NameId,
        max_version: u32,
        limit: usize,
        mut accept: impl FnMut(i64) -> bool,
    ) -> Vec<i64> {
        let positions: Vec<usize> =
            self.kinds
                .get(kind as usize)
                .map_or_else(Vec::new, |versions| {
                    versions
                        .iter()
                        .take_while(|&&(version, _)| version <= max_version)
                        .map(|&(_, position)| position as usize)
                        .collect()
                });
        let mut chosen: Vec<(usize, ReadyKey)> = Vec::new();
        {
            let mut heads: Vec<_> = positions
                .iter()
                .map(|&position| self.ready[position].in_order().peekable())
                .collect();
            while chosen.len() < limit {
                let mut best: Option<(usize, ReadyKey)> = None;
                for (at, head) in heads.iter_mut().enumerate() {
                    if let Some(&key) = head.peek()
                        && best.is_none_or(|(_, best)| key < best)
                    {
                        best = Some((at, key));
                    }
                }
                let Some((at, key)) = best else { break };
                heads[at].next();
                if accept(key.2) {
                    chosen.push((positions[at], key));
                }
            }
        }
        for (position, key) in &chosen {
            self.ready[*position].remove(key);
        }
        chosen.into_iter().map(|(_, key)| key.2).collect()
    }

    /// Whether a job of `kind` (up to `max_version`) is ready.
    pub(crate) fn has_ready(&self, kind: NameId, max_version: u32) -> bool {
        self.kinds.get(kind as usize).is_some_and(|versions| {
            versions
                .iter()
                .take_while(|&&(version, _)| version <= max_version)
                .any(|&(_, position)| !self.ready[position as usize].is_empty())
        })
    }

    /// Adds a job waiting for its time.
    pub(crate) fn push_waiting(&mut self, key: WaitKey) {
        self.waiting.insert(key);
    }

    /// Removes a waiting job; returns whether it was there.
    pub(crate) fn remove_waiting(&mut self, key: &WaitKey) -> bool {
        self.waiting.remove(key)
    }

    /// Takes the earliest waiting job if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: DateTime<Utc>) -> Option<i64> {
        let &(at, _) = self.waiting.first()?;
        if at > now {
            return None;
        }
        self.waiting.pop_first().map(|(_, id)| id)
    }

    /// When the oldest ready job became due. A scan, for `counts()`.
    pub(crate) fn oldest_ready(&self) -> Option<DateTime<Utc>> {
        self.ready
            .iter()
            .flat_map(|ready| {
                ready
                    .lane
                    .iter()
                    .filter(|key| key.2 > 0)
                    .chain(&ready.others)
            })
            .map(|key| key.1)
            .min()
    }

    /// When the earliest waiting job becomes due.
    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.waiting.first().map(|&(at, _)| at)
    }

    /// Every ready job's kind and key, for invariant checks.
    #[cfg(test)]
    pub(crate) fn ready_entries(&self) -> Vec<(NameId, ReadyKey)> {
        let mut entries = Vec::new();
        for (kind, versions) in self.kinds.iter().enumerate() {
            for &(_, position) in versions {
                let Some(ready) = self.ready.get(position as usize) else {
                    continue;
                };
                let live = ready.lane.iter().filter(|key| key.2 > 0);
                for key in live.chain(&ready.others) {
                    entries.push((kind as NameId, *key));
                }
            }
        }
        entries
    }

    /// Every waiting job's key, for invariant checks.
    #[cfg(test)]
    pub(crate) fn waiting_entries(&self) -> Vec<WaitKey> {
        self.waiting.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn merges_kinds_in_claim_order_and_skips_other_kinds() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::seconds(1);
        let mut queue = QueueIndex::default();
        // kind 9 is unknown to the fetcher and sits at the head
        queue.push_ready(9, 1, (-10, t0, 1));
        queue.push_ready(1, 1, (0, t1, 2));
        queue.push_ready(2, 1, (0, t0, 3));
        queue.push_ready(1, 1, (-1, t1, 4));
        queue.push_ready(2, 1, (0, t0, 5));
        assert_eq!(queue.pop_ready(&[(1, 1), (2, 1), (2, 1)], 10), [4, 3, 5, 2]);
        assert_eq!(queue.pop_ready(&[(1, 1), (2, 1)], 10), Vec::<i64>::new());
        assert_eq!(queue.pop_ready(&[(9, 1)], 10), [1]);
    }

    #[test]
    fn one_kind_respects_the_limit() {
        let t0 = Utc::now();
        let mut queue = QueueIndex::default();
        for id in 1..=5 {
            queue.push_ready(1, 1, (0, t0, id));
        }
        assert!(queue.remove_ready(1, 1, &(0, t0, 2)));
        assert!(!queue.remove_ready(1, 1, &(0, t0, 2)));
        assert!(!queue.remove_ready(7, 1, &(0, t0, 1)));
        assert_eq!(queue.pop_ready(&[(1, 1)], 2), [1, 3]);
        assert_eq!(queue.pop_ready(&[(1, 1)], 0), Vec::<i64>::new());
        assert_eq!(queue.pop_ready(&[], 5), Vec::<i64>::new());
    }

    #[test]
    fn out_of_order_and_removed_jobs_keep_the_claim_order() {
        let t0 = Utc::now();
        let t = |secs| t0 + TimeDelta::seconds(secs);
        let mut queue = QueueIndex::default();
        // in order: the lane
        for id in 1..=4 {
            queue.push_ready(1, 1, (0, t(id), id));
        }
        // ahead of the lane: a higher priority, an earlier time
        queue.push_ready(1, 1, (-1, t(9), 5));
        queue.push_ready(1, 1, (0, t(0), 6));
        assert!(queue.remove_ready(1, 1, &(0, t(2), 2)));
        assert!(!queue.remove_ready(1, 1, &(0, t(2), 2)), "removed once");
        assert!(queue.remove_ready(1, 1, &(0, t(0), 6)));
        assert!(queue.remove_ready(1, 1, &(0, t(1), 1)));
        assert!(!queue.remove_ready(1, 1, &(0, t(7), 7)), "never there");
        assert_eq!(queue.pop_ready(&[(1, 1)], 10), [5, 3, 4]);
        assert_eq!(queue.pop_ready(&[(1, 1)], 10), Vec::<i64>::new());
    }

    #[test]
    fn many_removals_compact_the_lane() {
        let t0 = Utc::now();
        let mut queue = QueueIndex::default();
        let n = 3 * COMPACT_AFTER as i64;
        for id in 1..=n {
            queue.push_ready(1, 1, (0, t0, id));
        }
        for id in 1..n {
            assert!(queue.remove_ready(1, 1, &(0, t0, id)));
        }
        let ready = &queue.ready[0];
        assert!(ready.lane.len() < 2 * COMPACT_AFTER, "compacted");
        assert_eq!(queue.pop_ready(&[(1, 1)], 10), [n]);
        assert!(queue.ready[0].is_empty());
    }

    #[test]
    fn newer_versions_wait_and_do_not_block_older_ones() {
        let t0 = Utc::now();
        let t = |secs| t0 + TimeDelta::seconds(secs);
        let mut queue = QueueIndex::default();
        // the newer job is first in claim order
        queue.push_ready(1, 3, (0, t(0), 1));
        queue.push_ready(1, 1, (0, t(1), 2));
        queue.push_ready(1, 2, (0, t(2), 3));
        queue.push_ready(1, 1, (0, t(3), 4));
        assert!(queue.remove_ready(1, 2, &(0, t(2), 3)));
        assert!(!queue.remove_ready(1, 1, &(0, t(0), 1)), "another version");
        assert_eq!(queue.pop_ready(&[(1, 2)], 10), [2, 4]);
        assert_eq!(queue.pop_ready(&[(1, 3)], 10), [1]);
    }

    #[test]
    fn pop_ready_where_steps_over_refused_jobs_in_claim_order() {
        let t0 = Utc::now();
        let t = |secs| t0 + TimeDelta::seconds(secs);
        let mut queue = QueueIndex::default();
        for id in 1..=4 {
            queue.push_ready(1, 1, (0, t(id), id));
        }
        // ahead of the lane, and a newer version that is not asked for
        queue.push_ready(1, 1, (-1, t(9), 5));
        queue.push_ready(1, 2, (-5, t(0), 6));
        queue.push_ready(2, 1, (-9, t(0), 7));
        let odd = |id: i64| id % 2 == 1;
        assert_eq!(queue.pop_ready_where(1, 1, 10, odd), [5, 1, 3]);
        assert!(queue.has_ready(1, 1), "the refused ones stay ready");
        assert_eq!(queue.pop_ready_where(1, 1, 1, |_| true), [2]);
        assert_eq!(queue.pop_ready(&[(1, 2)], 10), [6, 4]);
        assert!(!queue.has_ready(1, 2));
        assert!(queue.has_ready(2, 1));
    }

    #[test]
    fn waiting_jobs_come_due_in_time_order() {
        let t0 = Utc::now();
        let mut queue = QueueIndex::default();
        queue.push_waiting((t0 + TimeDelta::seconds(2), 1));
        queue.push_waiting((t0 + TimeDelta::seconds(1), 2));
        assert_eq!(queue.next_due(), Some(t0 + TimeDelta::seconds(1)));
        assert_eq!(queue.pop_due(t0), None);
        assert_eq!(queue.pop_due(t0 + TimeDelta::seconds(1)), Some(2));
        assert_eq!(queue.pop_due(t0 + TimeDelta::seconds(1)), None);
        assert!(queue.remove_waiting(&(t0 + TimeDelta::seconds(2), 1)));
        assert_eq!(queue.next_due(), None);
    }
}
