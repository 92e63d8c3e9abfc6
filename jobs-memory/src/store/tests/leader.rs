//! Maintenance and cron ticks.

use jobs_core::backend::{ScheduleAdvanceParams, ScheduleRestart};

use super::*;

#[test]
fn maintain_rescues_expired_leases() {
    let mut store = store(10);
    let mut last_try = job("a");
    last_try.max_attempts = 1;
    let ids = insert(&mut store, vec![job("a"), last_try, job("a")], t(0));
    fetch(&mut store, 2, t(0));
    assert_eq!(maintain(&mut store, t(29)).0, 0, "leases run to t(30)");
    assert_eq!(maintain(&mut store, t(30)).0, 2);
    let retried = view(&mut store, ids[0], t(30));
    // retryable at once, so shown as available
    assert_eq!(
        (retried.state, retried.scheduled_at),
        (JobState::Available, t(30))
    );
    assert_eq!(
        retried.errors,
        [error(
            1,
            "worker lost: its worker stopped renewing its lease",
            t(30)
        )]
    );
    let dead = view(&mut store, ids[1], t(30));
    assert_eq!(
        (dead.state, dead.finished_at),
        (JobState::Dead, Some(t(30)))
    );
    assert_eq!(
        dead.errors,
        [error(
            1,
            "worker lost: its worker stopped renewing its lease",
            t(30)
        )]
    );
    assert_eq!(store.unfinished(), 2);
    // the rescued job is due from t(30), so the one waiting since t(0) goes first
    assert_eq!(fetch(&mut store, 10, t(30)), [ids[2], ids[0]]);
    assert_eq!(maintain(&mut store, t(31)).0, 0);
}

#[test]
fn maintain_prunes_finished_jobs_past_their_retention() {
    let mut store = store(10);
    let retention = (Duration::from_secs(60), Duration::from_secs(600));
    let ids = insert(&mut store, (0..3).map(|_| job("a")).collect(), t(0));
    fetch(&mut store, 3, t(0));
    complete(&mut store, ids[0], 1, Outcome::Completed, t(1));
    let dead = Outcome::Dead {
        error: error(1, "bad", t(1)),
    };
    complete(&mut store, ids[1], 1, dead, t(1));
    complete(&mut store, ids[2], 1, Outcome::Completed, t(30));
    assert_eq!(
        maintain_with(&mut store, t(61), retention).1,
        0,
        "retention is not over yet"
    );
    assert_eq!(maintain_with(&mut store, t(62), retention).1, 1);
    assert!(store.get(ids[0], t(62)).is_none());
    assert_eq!(store.counts(t(62))["default"].completed, 1);
    assert_eq!(maintain_with(&mut store, t(91), retention).1, 1);
    assert_eq!(maintain_with(&mut store, t(600), retention).1, 0);
    assert_eq!(maintain_with(&mut store, t(602), retention).1, 1);
    assert_eq!(store.counts(t(602)), Counts::default());
}

#[test]
fn max_finished_prunes_the_oldest_at_once() {
    let mut store = store(10);
    store.config.max_finished = 2;
    let ids = insert(&mut store, (0..4).map(|_| job("a")).collect(), t(0));
    fetch(&mut store, 4, t(0));
    for (n, &id) in ids.iter().enumerate() {
        complete(&mut store, id, 1, Outcome::Completed, t(n as i64 + 1));
    }
    let kept: Vec<JobId> = store
        .list(&JobFilter::new(), t(9))
        .iter()
        .map(|job| JobId::new(job.id))
        .collect();
    assert_eq!(kept, ids[2..]);
    assert_eq!(store.counts(t(9))["default"].completed, 2);
    assert_eq!(maintain(&mut store, t(9)).1, 0, "pruned already");
}

#[test]
fn a_retried_job_is_pruned_by_its_latest_finish() {
    let mut store = store(10);
    store.config.max_finished = 1;
    let ids = insert(&mut store, vec![job("a"), job("a")], t(0));
    fetch_from(&mut store, "default", &["a"], 1, t(0));
    complete(&mut store, ids[0], 1, Outcome::Completed, t(1));
    assert!(
        store.cancel(ids[1], t(2)),
        "this finish prunes the first job"
    );
    assert!(store.get(ids[0], t(2)).is_none());
    assert!(store.retry(ids[1], t(3)));
    assert_eq!(store.counts(t(3))["default"].cancelled, 0);
    fetch(&mut store, 1, t(3));
    complete(&mut store, ids[1], 1, Outcome::Completed, t(4));
    // the stale entry from t(2) must not count: one finished job, kept
    assert_eq!(state(&mut store, ids[1], t(4)), JobState::Completed);
    assert_eq!(store.counts(t(4))["default"].completed, 1);
}

#[test]
fn one_worker_leads_until_its_term_ends_or_it_resigns() {
    let mut store = store(1);
    assert!(store.leader_elect("a", LEASE, t(0)));
    assert!(
        !store.leader_elect("b", LEASE, t(10)),
        "a's term runs to t(30)"
    );
    assert!(store.leader_elect("a", LEASE, t(20)), "a renews to t(50)");
    assert!(!store.leader_elect("b", LEASE, t(49)));
    assert!(store.leader_elect("b", LEASE, t(50)), "a's term ended");
    store.leader_resign("a");
    assert!(
        !store.leader_elect("a", LEASE, t(51)),
        "a no longer holds it"
    );
    store.leader_resign("b");
    assert!(store.leader_elect("a", LEASE, t(52)), "b resigned");
}

fn advance(
    spec: &ScheduleSpec,
    expected_next: DateTime<Utc>,
    next_run_at: DateTime<Utc>,
    jobs: Vec<NewJob>,
) -> ScheduleAdvanceParams<'_> {
    ScheduleAdvanceParams {
        spec,
        expected_next,
        next_run_at,
        jobs,
    }
}

#[test]
fn schedule_advance_is_a_compare_and_set_that_inserts_its_jobs() {
    let mut store = store(1);
    let spec = spec("nightly", "0 0 2 * * *");
    assert_eq!(
        store
            .schedule_upsert(&spec, t(0), t(30), ScheduleRestart::OnTimingChange)
            .next_run_at,
        t(0)
    );
    insert(&mut store, vec![job("a")], t(0));
    // the store is full, but the tick's job is stored anyway
    assert!(store.schedule_advance(advance(&spec, t(0), t(86_400), vec![job("report")]), t(1)));
    assert!(!store.schedule_advance(advance(&spec, t(0), t(86_400), vec![job("report")]), t(1)));
    assert_eq!(store.list(&JobFilter::new().kind("report"), t(1)).len(), 1);
    assert_eq!(store.unfinished(), 2);
    let stored = store.schedule_list();
    assert_eq!(
        (stored[0].next_run_at, stored[0].last_run_at),
        (t(86_400), Some(t(1)))
    );
    // unique keys still hold for tick jobs
    let ticks = vec![unique("day", job("report")), unique("day", job("report"))];
    assert!(store.schedule_advance(advance(&spec, t(86_400), t(172_800), ticks), t(86_400)));
    assert_eq!(
        store
            .list(&JobFilter::new().kind("report"), t(86_400))
            .len(),
        2
    );
    assert!(store.schedule_remove("nightly"));
    assert!(!store.schedule_advance(advance(&spec, t(172_800), t(259_200), vec![]), t(172_800)));
}
