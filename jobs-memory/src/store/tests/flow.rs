//! Flow control in the store: limited claims on a fixed clock, and paused
//! queues.

use jobs_core::backend::{ConcurrencyLimit, FlowLimits, RateLimit};

use super::*;

fn keyed(key: &str, mut job: NewJob) -> NewJob {
    job.concurrency_key = Some(key.into());
    job
}

fn fetch_limited(
    store: &mut Store,
    limits: FlowLimits,
    limit: usize,
    now: DateTime<Utc>,
) -> FetchedBatch {
    let request = JobFetchParams {
        queue: "default",
        kinds: &["a"],
        versions: &[],
        limit,
        worker_id: "test",
        lease: LEASE,
        flow: Some(limits),
    };
    store.fetch(&request, now)
}

fn ids(batch: &FetchedBatch) -> Vec<JobId> {
    batch.jobs.iter().map(|job| job.id).collect()
}

#[test]
fn concurrency_per_key_steps_over_full_keys() {
    let mut store = store(100);
    let jobs = vec![
        keyed("1", job("a")),
        keyed("1", job("a")),
        keyed("2", job("a")),
        keyed("1", job("a")),
        keyed("3", job("a")),
    ];
    let id = insert(&mut store, jobs, t(0));
    let limits = FlowLimits {
        concurrency: Some(ConcurrencyLimit {
            max: 1,
            key: Some("n"),
        }),
        rate: None,
    };
    let first = fetch_limited(&mut store, limits, 10, t(1));
    assert_eq!(ids(&first), [id[0], id[2], id[4]], "one per key, in order");
    assert!(ids(&fetch_limited(&mut store, limits, 10, t(1))).is_empty());
    complete(&mut store, id[0], 1, Outcome::Completed, t(2));
    assert_eq!(ids(&fetch_limited(&mut store, limits, 10, t(2))), [id[1]]);
    let held = store.get(id[3], t(2)).expect("stored");
    assert_eq!((held.state, held.attempt), (JobState::Available, 0));
}

#[test]
fn concurrency_of_a_kind_counts_every_running_job() {
    let mut store = store(100);
    let id = insert(
        &mut store,
        vec![job("a"), job("a"), job("a"), job("b")],
        t(0),
    );
    let limits = FlowLimits {
        concurrency: Some(ConcurrencyLimit { max: 2, key: None }),
        rate: None,
    };
    assert_eq!(
        ids(&fetch_limited(&mut store, limits, 10, t(1))),
        [id[0], id[1]]
    );
    assert!(ids(&fetch_limited(&mut store, limits, 10, t(1))).is_empty());
    // another kind of the queue is not held back
    assert_eq!(
        fetch_from(&mut store, "default", &["b"], 10, t(1))
            .jobs
            .len(),
        1
    );
}

#[test]
fn a_rate_limit_counts_starts_in_the_sliding_window() {
    let mut store = store(100);
    let id = insert(&mut store, (0..5).map(|_| job("a")).collect(), t(0));
    let limits = FlowLimits {
        concurrency: None,
        rate: Some(RateLimit {
            max: 2,
            per: Duration::from_secs(10),
        }),
    };
    let first = fetch_limited(&mut store, limits, 1, t(1));
    assert_eq!((ids(&first), first.held_until), (vec![id[0]], None));
    let second = fetch_limited(&mut store, limits, 10, t(3));
    assert_eq!(ids(&second), [id[1]]);
    assert_eq!(
        second.held_until,
        Some(t(11)),
        "the oldest start leaves then"
    );
    let early = fetch_limited(&mut store, limits, 10, t(10));
    assert!(early.jobs.is_empty());
    assert_eq!(early.held_until, Some(t(11)));
    let later = fetch_limited(&mut store, limits, 10, t(11));
    assert_eq!((ids(&later), later.held_until), (vec![id[2]], Some(t(13))));
}

#[test]
fn a_paused_queue_claims_nothing_and_still_takes_jobs() {
    let mut store = store(100);
    assert!(store.pause("default"));
    assert!(!store.pause("default"));
    let id = insert(&mut store, vec![job("a")], t(0));
    let batch = fetch_from(&mut store, "default", &["a"], 10, t(1));
    assert_eq!((batch.jobs.len(), batch.next_due_at), (0, None));
    let limits = FlowLimits {
        concurrency: Some(ConcurrencyLimit { max: 1, key: None }),
        rate: None,
    };
    assert!(fetch_limited(&mut store, limits, 10, t(1)).jobs.is_empty());
    let listed: Vec<(String, bool)> = store
        .queue_list()
        .into_iter()
        .map(|queue| (queue.name, queue.paused))
        .collect();
    assert_eq!(listed, [("default".to_owned(), true)]);
    assert!(store.resume("default"));
    assert!(!store.resume("default"));
    assert_eq!(fetch(&mut store, 10, t(2)), [id[0]]);
}
