//! Inserting, claiming, completing and heartbeats.

use super::*;

#[test]
fn ids_count_up_and_a_job_without_a_time_is_available() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![job("a"), job("b")], t(0));
    assert_eq!(ids, [JobId::new(1), JobId::new(2)]);
    let first = view(&mut store, ids[0], t(0));
    assert_eq!(first.state, JobState::Available);
    assert_eq!((first.created_at, first.scheduled_at), (t(0), t(0)));
    assert_eq!((first.attempt, first.max_attempts), (0, 3));
    assert_eq!(&*first.args, r#"{"n":1}"#);
    assert_eq!((&*first.kind, &*first.queue), ("a", "default"));
    assert_eq!(store.unfinished(), 2);
    assert_eq!(
        store.take_effects().wake.iter().collect::<Vec<_>>(),
        [&Arc::from("default")]
    );
}

#[test]
fn a_future_job_is_scheduled_until_its_time_then_available() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![at(t(10), job("a"))], t(0));
    assert_eq!(
        store.take_effects().wake.iter().collect::<Vec<_>>(),
        [&Arc::from("default")],
        "idle loops learn the new due time"
    );
    assert_eq!(state(&mut store, ids[0], t(0)), JobState::Scheduled);
    assert_eq!(store.counts(t(0))["default"].scheduled, 1);
    let batch = fetch_from(&mut store, "default", &["a"], 10, t(5));
    assert!(batch.jobs.is_empty());
    assert_eq!(batch.next_due_at, Some(t(10)));
    // once due it is shown as available everywhere, before any fetch
    assert_eq!(state(&mut store, ids[0], t(10)), JobState::Available);
    let counts = store.counts(t(10));
    assert_eq!(
        (counts["default"].scheduled, counts["default"].available),
        (0, 1)
    );
    let batch = fetch_from(&mut store, "default", &["a"], 10, t(10));
    assert_eq!(batch.jobs.len(), 1);
    assert_eq!(batch.jobs[0].scheduled_at, t(10));
    assert_eq!(batch.next_due_at, None);
}

#[test]
fn a_job_scheduled_in_the_past_is_available_and_runs_first() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![job("a"), at(t(-60), job("a"))], t(0));
    assert_eq!(state(&mut store, ids[1], t(0)), JobState::Available);
    assert_eq!(fetch(&mut store, 1, t(0)), [ids[1]]);
}

#[test]
fn fetch_orders_by_priority_then_time_then_id() {
    let mut store = store(10);
    let mut urgent = job("b");
    urgent.priority = -5;
    let mut lazy = job("a");
    lazy.priority = 5;
    let ids = insert(
        &mut store,
        vec![job("a"), lazy, at(t(-1), job("b")), urgent, job("b")],
        t(0),
    );
    assert_eq!(fetch(&mut store, 2, t(0)), [ids[3], ids[2]]);
    assert_eq!(fetch(&mut store, 10, t(0)), [ids[0], ids[4], ids[1]]);
    assert!(fetch(&mut store, 10, t(0)).is_empty());
}

#[test]
fn jobs_of_unknown_kinds_do_not_block_and_stay_available() {
    let mut store = store(10);
    let mut stranger = job("unknown");
    stranger.priority = -100;
    let ids = insert(&mut store, vec![stranger, job("a"), job("b")], t(0));
    assert_eq!(fetch(&mut store, 10, t(0)), [ids[1], ids[2]]);
    assert_eq!(state(&mut store, ids[0], t(0)), JobState::Available);
    assert_eq!(store.counts(t(0))["default"].available, 1);
}

#[test]
fn fetch_claims_within_one_queue_and_starts_a_lease() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![job("a"), on("other", job("a"))], t(0));
    let batch = fetch_from(&mut store, "default", &["a"], 10, t(1));
    assert_eq!(batch.jobs.len(), 1);
    let claimed = &batch.jobs[0];
    assert_eq!(
        (claimed.id, claimed.attempt, claimed.max_attempts),
        (ids[0], 1, 3)
    );
    assert_eq!(claimed.kind, "a");
    assert_eq!(&*claimed.args, r#"{"n":1}"#);
    assert_eq!((claimed.created_at, claimed.scheduled_at), (t(0), t(0)));
    let running = view(&mut store, ids[0], t(1));
    assert_eq!((running.state, running.attempt), (JobState::Running, 1));
    assert_eq!(running.attempted_at, Some(t(1)));
    assert_eq!(state(&mut store, ids[1], t(1)), JobState::Available);
    assert!(
        fetch_from(&mut store, "nowhere", &["a"], 10, t(1))
            .jobs
            .is_empty()
    );
    assert!(
        fetch_from(&mut store, "other", &["a"], 0, t(1))
            .jobs
            .is_empty()
    );
}

#[test]
fn each_outcome_sets_state_history_and_time() {
    let mut store = store(10);
    let ids = insert(&mut store, (0..6).map(|_| job("a")).collect(), t(0));
    assert_eq!(fetch(&mut store, 10, t(1)), ids);
    let outcomes = vec![
        Outcome::Completed,
        Outcome::Retry {
            at: t(60),
            error: error(1, "boom", t(2)),
        },
        Outcome::Dead {
            error: error(1, "bad input", t(2)),
        },
        Outcome::Snooze { at: t(30) },
        Outcome::Cancelled {
            error: error(1, "not wanted", t(2)),
        },
        Outcome::Release,
    ];
    let transitions = ids
        .iter()
        .zip(outcomes)
        .map(|(&id, outcome)| outcome.into_transition(RunningAttempt { id, attempt: 1 }))
        .collect();
    store.complete_many(transitions, t(2));
    let views: Vec<JobView> = ids.iter().map(|&id| view(&mut store, id, t(2))).collect();

    assert_eq!(views[0].state, JobState::Completed);
    assert_eq!(views[0].finished_at, Some(t(2)));
    assert!(views[0].errors.is_empty());

    assert_eq!(views[1].state, JobState::Retryable);
    assert_eq!((views[1].scheduled_at, views[1].attempt), (t(60), 1));
    assert_eq!(views[1].errors, [error(1, "boom", t(2))]);
    assert_eq!(views[1].finished_at, None);

    assert_eq!(views[2].state, JobState::Dead);
    assert_eq!(views[2].errors, [error(1, "bad input", t(2))]);
    assert_eq!(views[2].finished_at, Some(t(2)));

    assert_eq!(views[3].state, JobState::Scheduled);
    assert_eq!(
        (views[3].scheduled_at, views[3].attempt),
        (t(30), 0),
        "a snooze is not an attempt"
    );
    assert!(views[3].errors.is_empty());

    assert_eq!(views[4].state, JobState::Cancelled);
    assert_eq!(views[4].errors, [error(1, "not wanted", t(2))]);
    assert_eq!(views[4].finished_at, Some(t(2)));

    assert_eq!(views[5].state, JobState::Available);
    assert_eq!(
        (views[5].scheduled_at, views[5].attempt),
        (t(0), 0),
        "a release is not an attempt, and the job keeps its place"
    );
    assert!(
        store
            .take_effects()
            .wake
            .iter()
            .any(|queue| &**queue == "default")
    );

    // three finished, three unfinished
    assert_eq!(store.unfinished(), 3);
    // the released job runs again at once, the snoozed and retried ones when due
    assert_eq!(fetch(&mut store, 10, t(2)), [ids[5]]);
    assert_eq!(fetch(&mut store, 10, t(60)), [ids[3], ids[1]]);
    assert_eq!(view(&mut store, ids[1], t(60)).attempt, 2);
    assert_eq!(view(&mut store, ids[3], t(60)).attempt, 1);
}

#[test]
fn a_stale_completion_is_ignored() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![job("a")], t(0));
    fetch(&mut store, 1, t(0));
    // the lease runs out, the job is rescued and claimed again
    assert_eq!(maintain(&mut store, t(31)).0, 1);
    fetch(&mut store, 1, t(31));
    complete(&mut store, ids[0], 1, Outcome::Completed, t(32));
    let running = view(&mut store, ids[0], t(32));
    assert_eq!((running.state, running.attempt), (JobState::Running, 2));
    // unknown ids are ignored too
    complete(&mut store, JobId::new(99), 1, Outcome::Completed, t(32));
    complete(&mut store, ids[0], 2, Outcome::Completed, t(33));
    assert_eq!(state(&mut store, ids[0], t(33)), JobState::Completed);
    // a second report of the same attempt changes nothing
    complete(&mut store, ids[0], 2, Outcome::Release, t(34));
    assert_eq!(state(&mut store, ids[0], t(34)), JobState::Completed);
}

#[test]
fn try_insert_into_a_full_store_stores_nothing() {
    let mut store = store(3);
    insert(&mut store, vec![job("a"), job("a")], t(0));
    let rejected = store.insert_many(vec![job("a"), job("a")], t(0), Room::Bounded);
    let (back, why) = rejected.expect_err("only one fits");
    assert_eq!((back.len(), why), (2, Rejected::Full));
    assert_eq!(store.unfinished(), 2);
    assert!(
        store.list(&JobFilter::new(), t(0)).len() == 2,
        "all or nothing"
    );
    let too_large = store.insert_many((0..4).map(|_| job("a")).collect(), t(0), Room::Bounded);
    assert_eq!(too_large.map_err(|(_, why)| why), Err(Rejected::TooLarge));
    insert(&mut store, vec![job("a")], t(0));
}

#[test]
fn finishing_or_deleting_frees_room_and_tells_a_waiting_insert() {
    let mut store = store(2);
    let ids = insert(&mut store, vec![job("a"), job("a")], t(0));
    assert!(
        store
            .insert_many(vec![job("a")], t(0), Room::Bounded)
            .is_err()
    );
    store.want_room();
    store.take_effects();
    let claimed = fetch(&mut store, 1, t(0));
    assert!(!store.take_effects().room, "running jobs still take room");
    complete(&mut store, claimed[0], 1, Outcome::Completed, t(1));
    assert!(store.take_effects().room);
    insert(&mut store, vec![job("a")], t(1));
    store.want_room();
    assert!(store.delete(ids[1], t(1)));
    assert!(store.take_effects().room);
    assert_eq!(store.unfinished(), 1);
    // room is only announced when someone waits for it
    assert!(store.cancel(JobId::new(3), t(2)));
    assert!(!store.take_effects().room);
    assert_eq!(store.unfinished(), 0);
}

#[test]
fn a_unique_key_is_held_until_its_job_finishes() {
    let mut store = store(3);
    let ids = insert(
        &mut store,
        vec![
            unique("k", job("a")),
            unique("k", job("a")),
            unique("k", job("b")),
        ],
        t(0),
    );
    assert_eq!(ids[0], ids[1], "a duplicate in the same batch");
    assert_ne!(ids[0], ids[2], "keys are per kind");
    store.take_effects();
    let again = insert(&mut store, vec![unique("k", job("a"))], t(0));
    assert_eq!(again, [ids[0]]);
    assert!(
        store.take_effects().wake.iter().next().is_none(),
        "nothing was stored"
    );
    assert_eq!(store.unfinished(), 2);
    // a full store still answers a duplicate: it needs no room
    let filler = insert(&mut store, vec![job("b")], t(0));
    assert_eq!(
        insert(&mut store, vec![unique("k", job("a"))], t(0)),
        [ids[0]]
    );
    assert!(store.delete(filler[0], t(1)));

    fetch_from(&mut store, "default", &["a"], 1, t(1));
    complete(&mut store, ids[0], 1, Outcome::Completed, t(1));
    let fresh = insert(&mut store, vec![unique("k", job("a"))], t(2));
    assert_ne!(fresh, [ids[0]]);
    assert_eq!(
        view(&mut store, fresh[0], t(2)).unique_key.as_deref(),
        Some("k")
    );
    // cancelling and deleting free the key too
    assert!(store.cancel(fresh[0], t(3)));
    let third = insert(&mut store, vec![unique("k", job("a"))], t(3));
    assert!(store.delete(third[0], t(1)));
    let fourth = insert(&mut store, vec![unique("k", job("a"))], t(3));
    assert!(fourth[0] > third[0]);
}

#[test]
fn heartbeat_renews_leases_and_names_the_runs_that_ended() {
    let mut store = store(10);
    let ids = insert(&mut store, vec![job("a"), job("a"), job("a")], t(0));
    fetch(&mut store, 3, t(0));
    assert!(store.cancel(ids[1], t(10)));
    let lost = store.heartbeat(
        &runs(&[(ids[0], 1), (ids[1], 1), (ids[2], 7), (JobId::new(99), 1)]),
        LEASE,
        t(20),
    );
    assert_eq!(lost, [ids[1], ids[2], JobId::new(99)]);
    // the first lease now runs to t(50), the third was not renewed
    assert_eq!(maintain(&mut store, t(45)).0, 1);
    assert_eq!(state(&mut store, ids[0], t(45)), JobState::Running);
    assert_eq!(maintain(&mut store, t(50)).0, 1);
}
