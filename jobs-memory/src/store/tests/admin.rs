//! What a client does: cancel, delete, retry, list, count.

use super::*;

#[test]
fn cancel_stops_unfinished_jobs_only() {
    let mut store = store(10);
    let ids = insert(
        &mut store,
        vec![job("a"), at(t(60), job("a")), job("a")],
        t(0),
    );
    let running = fetch(&mut store, 1, t(0));
    assert_eq!(running, [ids[0]]);
    for &id in &ids {
        assert!(store.cancel(id, t(1)));
        let cancelled = view(&mut store, id, t(1));
        assert_eq!(
            (cancelled.state, cancelled.finished_at),
            (JobState::Cancelled, Some(t(1)))
        );
    }
    assert!(!store.cancel(ids[0], t(2)), "already finished");
    assert!(!store.cancel(JobId::new(99), t(2)));
    // the worker's late report is ignored
    complete(&mut store, ids[0], 1, Outcome::Completed, t(3));
    assert_eq!(state(&mut store, ids[0], t(3)), JobState::Cancelled);
    assert!(fetch(&mut store, 10, t(100)).is_empty());
    assert_eq!(store.unfinished(), 0);
}

#[test]
fn delete_removes_any_job_but_a_running_one() {
    let mut store = store(10);
    let ids = insert(
        &mut store,
        vec![job("a"), job("a"), at(t(60), job("a"))],
        t(0),
    );
    fetch(&mut store, 1, t(0));
    assert!(!store.delete(ids[0], t(1)), "running");
    assert!(store.delete(ids[1], t(1)));
    assert!(store.delete(ids[2], t(1)));
    assert!(!store.delete(ids[2], t(1)), "already gone");
    assert!(store.get(ids[2], t(0)).is_none());
    complete(&mut store, ids[0], 1, Outcome::Completed, t(1));
    assert!(store.delete(ids[0], t(1)), "finished jobs can go");
    assert!(store.list(&JobFilter::new(), t(1)).is_empty());
    assert_eq!(store.counts(t(1)), Counts::default());
    assert!(fetch(&mut store, 10, t(100)).is_empty());
}

#[test]
fn retry_runs_a_finished_or_waiting_job_now() {
    let mut store = store(10);
    let ids = insert(
        &mut store,
        vec![job("a"), job("a"), at(t(60), job("a"))],
        t(0),
    );
    fetch(&mut store, 2, t(0));
    let dead = Outcome::Dead {
        error: error(1, "bad", t(1)),
    };
    complete(&mut store, ids[0], 1, dead, t(1));
    complete(&mut store, ids[1], 1, Outcome::Completed, t(1));
    assert!(!store.retry(ids[1], t(2)), "completed jobs stay completed");
    assert!(store.retry(ids[0], t(2)));
    let retried = view(&mut store, ids[0], t(2));
    assert_eq!(retried.state, JobState::Available);
    assert_eq!((retried.scheduled_at, retried.finished_at), (t(2), None));
    assert_eq!(retried.errors.len(), 1, "the history stays");
    assert!(!store.retry(ids[0], t(2)), "already available");
    assert!(store.retry(ids[2], t(2)), "a scheduled job runs now");
    assert_eq!(fetch(&mut store, 10, t(2)), [ids[0], ids[2]]);
    assert!(!store.retry(ids[0], t(2)), "running");
    assert!(!store.retry(JobId::new(99), t(2)));
}

#[test]
fn retry_allows_one_more_attempt_when_they_are_spent() {
    let mut store = store(10);
    let mut once = job("a");
    once.max_attempts = 1;
    let ids = insert(&mut store, vec![once], t(0));
    fetch(&mut store, 1, t(0));
    let dead = Outcome::Dead {
        error: error(1, "bad", t(1)),
    };
    complete(&mut store, ids[0], 1, dead, t(1));
    assert!(store.retry(ids[0], t(2)));
    let retried = view(&mut store, ids[0], t(2));
    assert_eq!((retried.attempt, retried.max_attempts), (1, 2));
    assert_eq!(store.unfinished(), 1);
}

#[test]
fn retry_is_refused_while_another_job_holds_the_unique_key() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![unique("k", job("a"))], t(0));
    assert!(store.cancel(ids[0], t(1)));
    let successor = insert(&mut store, vec![unique("k", job("a"))], t(1));
    assert!(!store.retry(ids[0], t(2)));
    assert!(store.delete(successor[0], t(1)));
    assert!(store.retry(ids[0], t(3)));
    assert_eq!(insert(&mut store, vec![unique("k", job("a"))], t(3)), ids);
}

#[test]
fn list_filters_and_pages_by_id() {
    let mut store = store(10);
    let ids = insert(
        &mut store,
        vec![
            job("a"),
            on("mail", job("a")),
            job("b"),
            job("a"),
            on("mail", job("b")),
        ],
        t(0),
    );
    let listed = |store: &mut Store, filter: JobFilter| -> Vec<JobId> {
        store
            .list(&filter, t(0))
            .iter()
            .map(|job| JobId::new(job.id))
            .collect()
    };
    assert_eq!(listed(&mut store, JobFilter::new()), ids);
    assert_eq!(
        listed(&mut store, JobFilter::new().offset(1).limit(2)),
        ids[1..3]
    );
    assert_eq!(listed(&mut store, JobFilter::new().offset(9)), []);
    assert_eq!(listed(&mut store, JobFilter::new().limit(0)), []);
    assert_eq!(
        listed(&mut store, JobFilter::new().queue("mail")),
        [ids[1], ids[4]]
    );
    assert_eq!(
        listed(&mut store, JobFilter::new().kind("b")),
        [ids[2], ids[4]]
    );
    assert_eq!(
        listed(
            &mut store,
            JobFilter::new().kind("a").queue("default").offset(1)
        ),
        [ids[3]]
    );
    assert_eq!(listed(&mut store, JobFilter::new().queue("nowhere")), []);
    assert_eq!(listed(&mut store, JobFilter::new().kind("nothing")), []);
    fetch(&mut store, 1, t(0));
    assert_eq!(
        listed(&mut store, JobFilter::new().state(JobState::Running)),
        [ids[0]]
    );
    assert_eq!(
        listed(
            &mut store,
            JobFilter::new().state(JobState::Available).limit(1)
        ),
        [ids[1]]
    );
}

#[test]
fn counts_follow_every_state_per_queue() {
    let mut store = store(10);
    let ids = insert(
        &mut store,
        vec![
            job("a"),
            job("a"),
            job("a"),
            at(t(60), job("a")),
            on("mail", job("a")),
        ],
        t(0),
    );
    fetch(&mut store, 3, t(0));
    complete(&mut store, ids[0], 1, Outcome::Completed, t(1));
    let retry = Outcome::Retry {
        at: t(30),
        error: error(1, "boom", t(1)),
    };
    complete(&mut store, ids[1], 1, retry, t(1));
    let counts = store.counts(t(1));
    let default = counts["default"];
    assert_eq!(
        (
            default.scheduled,
            default.available,
            default.running,
            default.retryable,
            default.completed
        ),
        (1, 0, 1, 1, 1)
    );
    assert_eq!(counts["mail"].available, 1);
    assert_eq!(counts.total(JobState::Available), 1);
    assert_eq!(counts.iter().count(), 2);
    assert_eq!(
        store.counts(t(30))["default"].available,
        1,
        "the retry is due"
    );
}
