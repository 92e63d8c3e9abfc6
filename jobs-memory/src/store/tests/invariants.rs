//! Random sequences of every operation, checking after each step that the
//! indexes, counts, capacity and unique keys agree with the jobs.

use std::collections::{BTreeSet, HashMap};

use jobs_core::backend::{JobParent, ParentCondition};

use super::*;

/// A small deterministic generator (xorshift), enough to vary operations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

impl Store {
    /// Panics if any invariant of the store is broken.
    fn check(&self) {
        let mut counts: HashMap<NameId, QueueCounts> = HashMap::new();
        let mut ready = BTreeSet::new();
        let mut waiting = BTreeSet::new();
        let mut running = BTreeSet::new();
        let mut unfinished = 0;
        let mut finished = 0;
        let mut awaiting = 0;
        for job in self.jobs.iter() {
            *counts.entry(job.queue).or_default().get_mut(job.state) += 1;
            match job.state {
                JobState::Available => {
                    ready.insert((
                        job.queue,
                        job.kind,
                        (job.priority, job.scheduled_at, job.id),
                    ));
                }
                JobState::Scheduled | JobState::Retryable => {
                    waiting.insert((job.queue, (job.scheduled_at, job.id)));
                }
                JobState::Running => {
                    running.insert(job.id);
                    assert!(job.lease_until().is_some(), "job {} has no lease", job.id);
                }
                JobState::Awaiting => awaiting += 1,
                JobState::Completed | JobState::Dead | JobState::Cancelled => {
                    assert!(
                        job.finished_at().is_some(),
                        "job {} has no finish time",
                        job.id
                    );
                    finished += 1;
                }
            }
            if !job.state.is_finished() {
                unfinished += 1;
                if let Some(key) = job.unique_key() {
                    let holder = self
                        .unique
                        .get(&job.kind)
                        .and_then(|holders| holders.get(key));
                    assert_eq!(
                        holder,
                        Some(&job.id),
                        "job {} does not hold its key",
                        job.id
                    );
                }
            }
        }
        for (kind, holders) in &self.unique {
            for (key, id) in holders {
                let job = self.jobs.get(*id).expect("a key holder exists");
                assert_eq!((job.kind, job.unique_key()), (*kind, Some(&**key)));
                assert!(!job.state.is_finished(), "finished job {id} holds a key");
            }
        }
        let mut indexed_ready = BTreeSet::new();
        let mut indexed_waiting = BTreeSet::new();
        for (queue, index) in self.queues.iter().enumerate() {
            let queue = queue as NameId;
            let expected = counts.get(&queue).copied().unwrap_or_default();
            assert_eq!(index.counts, expected, "counts of queue {queue}");
            for (kind, key) in index.ready_entries() {
                assert!(
                    indexed_ready.insert((queue, kind, key)),
                    "ready twice: {key:?}"
                );
            }
            for key in index.waiting_entries() {
                indexed_waiting.insert((queue, key));
            }
        }
        assert_eq!(indexed_ready, ready);
        assert_eq!(indexed_waiting, waiting);
        assert_eq!(
            self.running.iter().copied().collect::<BTreeSet<_>>(),
            running
        );
        assert_eq!(self.waits.waiting(), awaiting, "awaiting jobs and waits");
        assert_eq!(self.unfinished, unfinished);
        assert_eq!(self.retention.len(), finished);
        assert!(finished <= self.config.max_finished);
    }
}

fn random_outcome(rng: &mut Rng, now: DateTime<Utc>) -> Outcome {
    let later = now + TimeDelta::seconds(rng.below(20) as i64);
    let error = error(1, "boom", now);
    match rng.below(6) {
        0 => Outcome::Completed,
        1 => Outcome::Retry { at: later, error },
        2 => Outcome::Dead { error },
        3 => Outcome::Snooze { at: later },
        4 => Outcome::Cancelled { error },
        _ => Outcome::Release,
    }
}

#[test]
fn random_operations_keep_every_invariant() {
    const KINDS: [&str; 3] = ["a", "b", "c"];
    const QUEUES: [&str; 2] = ["default", "mail"];
    for seed in 1..=20 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let mut store = store(40);
        store.config.max_finished = 15;
        let mut now = t(0);
        let mut claimed: Vec<(JobId, u32)> = Vec::new();
        for _ in 0..400 {
            let random_id = JobId::new(1 + rng.below(store.next_id as u64) as i64);
            match rng.below(10) {
                0 | 1 => {
                    let jobs = (0..1 + rng.below(4))
                        .map(|_| {
                            let mut new = on(rng.pick(&QUEUES), job(rng.pick(&KINDS)));
                            new.priority = rng.below(3) as i16 - 1;
                            if rng.below(3) == 0 {
                                new.scheduled_at =
                                    Some(now + TimeDelta::seconds(rng.below(20) as i64 - 5));
                            }
                            if rng.below(3) == 0 {
                                new.unique_key = Some(format!("k{}", rng.below(4)));
                            }
                            if rng.below(3) == 0 {
                                let parent = 1 + rng.below(store.next_id as u64) as i64;
                                let condition = match rng.below(2) {
                                    0 => ParentCondition::Completed,
                                    _ => ParentCondition::Finished,
                                };
                                new.parents.push(JobParent {
                                    id: JobId::new(parent),
                                    condition,
                                });
                            }
                            new
                        })
                        .collect();
                    let _full_is_fine = store.insert_many(jobs, now, Room::Bounded);
                }
                2 | 3 => {
                    let kinds = [rng.pick(&KINDS), rng.pick(&KINDS)];
                    let queue = rng.pick(&QUEUES);
                    let limit = rng.below(5) as usize;
                    let batch = fetch_from(&mut store, queue, &kinds, limit, now);
                    claimed.extend(batch.jobs.iter().map(|job| (job.id, job.attempt)));
                }
                4 | 5 if !claimed.is_empty() => {
                    let (id, attempt) =
                        claimed.swap_remove(rng.below(claimed.len() as u64) as usize);
                    // sometimes a stale attempt number
                    let attempt = attempt - rng.below(2) as u32;
                    let outcome = random_outcome(&mut rng, now);
                    complete(&mut store, id, attempt, outcome, now);
                }
                6 => {
                    store.cancel(random_id, now);
                }
                7 => {
                    store.delete(random_id, now);
                }
                8 => {
                    store.retry(random_id, now);
                }
                _ => {
                    now += TimeDelta::seconds(rng.below(15) as i64);
                    if rng.below(2) == 0 {
                        store.heartbeat(&runs(&claimed), LEASE, now);
                    }
                    maintain_with(&mut store, now, (Duration::from_secs(40), RETENTION.1));
                }
            }
            store.check();
            store.take_effects();
        }
        // reading promotes due jobs without breaking anything
        store.counts(now + TimeDelta::hours(1));
        store.check();
    }
}
