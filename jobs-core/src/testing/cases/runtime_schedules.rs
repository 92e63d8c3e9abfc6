//! Schedules stored at run time with `Client::upsert_schedule`: ticked by
//! the leader like declared ones (one job a tick across workers, even by a
//! leader that does not run the kind), updated and removed at run time,
//! checked like `#[recurring]`, and vouched for by the workers that run
//! their job kind.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use crate::testing::jobs::{big_payload, record, triggered, typed};
use crate::testing::{Env, eventually};
use crate::{Error, JobFilter, JobInfo, Misfire, Schedule, ScheduleInfo, ScheduleOrigin};

const EVERY_SECOND: &str = "* * * * * *";

/// A schedule enqueueing `record` with `label`.
fn recording(id: &str, cron: &str, label: &str) -> Schedule {
    Schedule::new(id, cron).job(record::with(label.to_owned()))
}

/// The stored jobs of `kind`, of every state.
async fn jobs_of(env: &Env, kind: &str) -> Vec<JobInfo> {
    env.client
        .list(JobFilter::new().kind(kind).limit(10_000))
        .await
        .unwrap()
}

fn label_of(job: &JobInfo) -> &str {
    job.args["label"].as_str().unwrap_or_default()
}

async fn schedule(env: &Env, id: &str) -> Option<ScheduleInfo> {
    let stored = env.client.schedules().await.unwrap();
    stored.into_iter().find(|schedule| schedule.id == id)
}

/// Waits until the probe saw at least `count` runs labelled `label`.
async fn runs_labelled(env: &Env, label: &str, count: usize) {
    let probe = env.probe.clone();
    let label = label.to_owned();
    eventually(&format!("{count} runs labelled `{label}`"), move || {
        let probe = probe.clone();
        let label = label.clone();
        async move { probe.runs().iter().filter(|run| run.label == label).count() >= count }
    })
    .await;
}

/// Each job is one tick: on a whole second, and no two on the same one.
fn assert_one_job_per_tick(jobs: &[JobInfo]) {
    let mut ticks: Vec<DateTime<Utc>> = jobs.iter().map(|job| job.scheduled_at).collect();
    assert!(
        ticks.iter().all(|tick| tick.nanosecond() == 0),
        "every job is due on its tick: {ticks:?}"
    );
    ticks.sort();
    ticks.dedup();
    assert_eq!(ticks.len(), jobs.len(), "one job per tick: {jobs:#?}");
}

fn refusal(result: crate::Result<ScheduleInfo>) -> (String, String) {
    match result {
        Err(Error::InvalidSchedule { id, message }) => (id, message),
        other => panic!("expected Error::InvalidSchedule, got {other:?}"),
    }
}

pub async fn a_runtime_schedule_ticks_once_per_tick_across_workers(env: Env) {
    let workers = [
        env.worker(&[record::NAME]).build().unwrap().start(),
        env.worker(&[record::NAME]).build().unwrap().start(),
        env.worker(&[record::NAME]).build().unwrap().start(),
    ];
    let stored = env
        .client
        .upsert_schedule(recording("conformance-runtime", EVERY_SECOND, "tenant-7"))
        .await
        .unwrap();
    assert_eq!(
        (stored.kind.as_str(), stored.origin),
        (record::NAME, ScheduleOrigin::Runtime)
    );
    runs_labelled(&env, "tenant-7", 3).await;
    assert!(
        env.client
            .remove_schedule("conformance-runtime")
            .await
            .unwrap()
    );
    for worker in workers {
        worker.shutdown().await;
    }
    let jobs = jobs_of(&env, record::NAME).await;
    assert!(jobs.len() >= 3, "{jobs:#?}");
    assert!(
        jobs.iter().all(|job| label_of(job) == "tenant-7"),
        "each tick enqueues the job with its arguments: {jobs:#?}"
    );
    assert_one_job_per_tick(&jobs);
}

pub async fn a_leader_that_does_not_run_the_kind_ticks_a_runtime_schedule(env: Env) {
    // this worker runs only `typed`: it leads, and ticks the schedule of
    // `record` from its stored definition
    let worker = env.worker(&[typed::NAME]).build().unwrap().start();
    env.client
        .upsert_schedule(recording("conformance-runtime", EVERY_SECOND, "unrun"))
        .await
        .unwrap();
    let client = env.client.clone();
    eventually("two ticks of the run-time schedule", move || {
        let client = client.clone();
        async move {
            let filter = JobFilter::new().kind(record::NAME);
            client.list(filter).await.unwrap().len() >= 2
        }
    })
    .await;
    env.client
        .remove_schedule("conformance-runtime")
        .await
        .unwrap();
    worker.shutdown().await;
    assert!(env.probe.runs().is_empty(), "no worker runs `record`");
    assert_one_job_per_tick(&jobs_of(&env, record::NAME).await);
}

pub async fn a_runtime_schedule_update_takes_effect(env: Env) {
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    let id = "conformance-runtime";
    env.client
        .upsert_schedule(recording(id, EVERY_SECOND, "v1"))
        .await
        .unwrap();
    runs_labelled(&env, "v1", 1).await;
    // new arguments and a new cron: every other second
    let updated = env
        .client
        .upsert_schedule(recording(id, "*/2 * * * * *", "v2"))
        .await
        .unwrap();
    assert_eq!(updated.cron, "*/2 * * * * *");
    // a tick of the old definition is stored before the upsert returns or
    // never: the leader's compare-and-set includes the definition it read
    let v1_before = jobs_of(&env, record::NAME)
        .await
        .iter()
        .filter(|job| label_of(job) == "v1")
        .count();
    runs_labelled(&env, "v2", 3).await;
    env.client.remove_schedule(id).await.unwrap();
    worker.shutdown().await;
    let jobs = jobs_of(&env, record::NAME).await;
    let v1 = jobs.iter().filter(|job| label_of(job) == "v1").count();
    assert_eq!(v1, v1_before, "no tick of the old definition: {jobs:#?}");
    let v2: Vec<_> = jobs.iter().filter(|job| label_of(job) == "v2").collect();
    assert!(
        v2.iter().all(|job| job.scheduled_at.second() % 2 == 0),
        "the new cron: {v2:#?}"
    );
    assert_one_job_per_tick(&jobs);
}

pub async fn a_removed_runtime_schedule_stops_ticking(env: Env) {
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    let id = "conformance-runtime";
    env.client
        .upsert_schedule(recording(id, EVERY_SECOND, "gone"))
        .await
        .unwrap();
    runs_labelled(&env, "gone", 1).await;
    assert!(env.client.remove_schedule(id).await.unwrap());
    let enqueued = jobs_of(&env, record::NAME).await.len();
    assert!(schedule(&env, id).await.is_none(), "no longer listed");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    worker.shutdown().await;
    assert_eq!(
        jobs_of(&env, record::NAME).await.len(),
        enqueued,
        "no tick after the removal"
    );
    assert!(!env.client.remove_schedule(id).await.unwrap());
}

pub async fn an_unchanged_runtime_upsert_keeps_its_next_tick(env: Env) {
    // no worker runs: the ticks are missed and stay due
    let id = "conformance-runtime";
    let first = env
        .client
        .upsert_schedule(recording(id, EVERY_SECOND, "same"))
        .await
        .unwrap();
    let stored_tick = first.next_run_at;
    while Utc::now() <= stored_tick + chrono::Duration::seconds(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = env
        .client
        .upsert_schedule(recording(id, EVERY_SECOND, "same"))
        .await
        .unwrap();
    assert_eq!(
        again.next_run_at, stored_tick,
        "unchanged: the stored (missed) tick is kept"
    );
    // each kind of change restarts from now
    let changes = [
        recording(id, EVERY_SECOND, "same").misfire(Misfire::Skip),
        recording(id, EVERY_SECOND, "other").misfire(Misfire::Skip),
        Schedule::new(id, EVERY_SECOND)
            .misfire(Misfire::Skip)
            .job(record::with("other".into()).priority(-3)),
        Schedule::new(id, EVERY_SECOND)
            .misfire(Misfire::Skip)
            .job(record::with("other".into()).priority(-3).queue("reports")),
        Schedule::new(id, "*/2 * * * * *")
            .misfire(Misfire::Skip)
            .job(record::with("other".into()).priority(-3).queue("reports")),
        Schedule::new(id, "*/2 * * * * *")
            .tz("Europe/Berlin")
            .misfire(Misfire::Skip)
            .job(record::with("other".into()).priority(-3).queue("reports")),
        Schedule::new(id, "*/2 * * * * *")
            .tz("Europe/Berlin")
            .misfire(Misfire::Skip)
            .job(
                record::with("other".into())
                    .priority(-3)
                    .queue("reports")
                    .retries(9),
            ),
    ];
    for (n, change) in changes.into_iter().enumerate() {
        // let the restarted tick pass, so a restart is told from a keep
        let stored = schedule(&env, id).await.unwrap().next_run_at;
        while Utc::now() <= stored {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let before = Utc::now();
        let restarted = env.client.upsert_schedule(change).await.unwrap();
        assert!(
            restarted.next_run_at > before,
            "change {n} restarts from now: {restarted:?}"
        );
    }
    let last = schedule(&env, id).await.unwrap();
    assert_eq!(
        (
            last.queue.as_str(),
            last.tz.as_str(),
            last.misfire,
            last.origin
        ),
        (
            "reports",
            "Europe/Berlin",
            Misfire::Skip,
            ScheduleOrigin::Runtime
        )
    );
}

pub async fn invalid_runtime_schedules_are_refused(env: Env) {
    let client = &env.client;
    let job = || record::with("x".into());
    let refused = |schedule| async { refusal(client.upsert_schedule(schedule).await) };

    let (id, message) = refused(Schedule::new("five", "0 6 * * *").job(job())).await;
    assert_eq!(id, "five");
    assert!(message.contains("`0 0 6 * * *`"), "{message}");
    let (_, message) = refused(Schedule::new("never", "0 0 0 30 2 *").job(job())).await;
    assert!(message.contains("never fires"), "{message}");
    let (_, message) = refused(Schedule::new("hour-25", "0 0 25 * * *").job(job())).await;
    assert!(message.contains("invalid cron expression"), "{message}");
    let (_, message) = refused(Schedule::new("fields", "* * * *").job(job())).await;
    assert!(message.contains("4 fields"), "{message}");
    let (_, message) = refused(
        Schedule::new("mars", "0 0 6 * * *")
            .tz("Mars/Olympus")
            .job(job()),
    )
    .await;
    assert!(
        message.contains("unknown time zone `Mars/Olympus`"),
        "{message}"
    );
    let (_, message) = refused(Schedule::new("", "0 0 6 * * *").job(job())).await;
    assert!(message.contains("empty"), "{message}");
    let (_, message) = refused(Schedule::new("jobless", "0 0 6 * * *")).await;
    assert!(message.contains("no job"), "{message}");
    let (_, message) =
        refused(Schedule::new("queue", "0 0 6 * * *").job(job().queue("Not A Queue"))).await;
    assert!(message.contains("invalid queue name"), "{message}");
    let (_, message) =
        refused(Schedule::new("delayed", "0 0 6 * * *").job(job().delay(Duration::from_secs(5))))
            .await;
    assert!(message.contains("delay"), "{message}");
    let (_, message) =
        refused(Schedule::new("unique", "0 0 6 * * *").job(job().unique_key("k"))).await;
    assert!(message.contains("unique_key"), "{message}");
    let blob = "x".repeat(crate::DEFAULT_MAX_PAYLOAD + 1);
    let (_, message) =
        refused(Schedule::new("large", "0 0 6 * * *").job(big_payload::with(blob))).await;
    assert!(message.contains("over the limit"), "{message}");

    assert!(
        client.schedules().await.unwrap().is_empty(),
        "nothing refused is stored"
    );
}

pub async fn a_runtime_schedule_is_orphaned_only_while_no_live_worker_runs_its_kind(env: Env) {
    // a time of day far from now: nothing ticks during the case
    let daily = "0 0 6 * * *";
    let known = "conformance-runtime-known";
    let unknown = "conformance-runtime-unknown";
    let stored = env
        .client
        .upsert_schedule(recording(known, daily, "daily"))
        .await
        .unwrap();
    assert!(stored.orphaned, "no live worker runs `record`: {stored:?}");
    env.client
        .upsert_schedule(Schedule::new(unknown, daily).job(typed::with(1, "daily".into())))
        .await
        .unwrap();

    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    let client = env.client.clone();
    eventually(
        "the worker vouches for the schedule of its kind",
        move || {
            let client = client.clone();
            async move {
                let stored = client.schedules().await.unwrap();
                stored.iter().any(|s| s.id == known && !s.orphaned)
            }
        },
    )
    .await;
    // one stored now is vouched for at once: the worker runs its kind
    let later = env
        .client
        .upsert_schedule(recording("conformance-runtime-later", daily, "daily"))
        .await
        .unwrap();
    assert!(!later.orphaned, "{later:?}");
    // and it stays so while the worker runs, past a lease
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for id in [known, "conformance-runtime-later"] {
        let stored = schedule(&env, id).await.unwrap();
        assert!(!stored.orphaned, "its kind's worker is alive: {stored:?}");
    }
    let other = schedule(&env, unknown).await.unwrap();
    assert!(other.orphaned, "no live worker runs `typed`: {other:?}");

    worker.shutdown().await;
    let client = env.client.clone();
    eventually(
        "the schedule is orphaned once its kind's worker is gone",
        move || {
            let client = client.clone();
            async move {
                let stored = client.schedules().await.unwrap();
                stored.iter().any(|s| s.id == known && s.orphaned)
            }
        },
    )
    .await;
}

pub async fn a_declared_schedule_wins_its_id_over_a_runtime_one(env: Env) {
    // stored at run time first, under the id a `#[recurring]` declares
    env.client
        .upsert_schedule(recording(triggered::ID, "0 0 6 * * *", "runtime"))
        .await
        .unwrap();
    let worker = env.worker(&[triggered::NAME]).build().unwrap().start();
    let client = env.client.clone();
    eventually("the declaration takes over its id", move || {
        let client = client.clone();
        async move {
            let stored = client.schedules().await.unwrap();
            stored.iter().any(|s| {
                s.id == triggered::ID
                    && s.origin == ScheduleOrigin::Declared
                    && s.kind == triggered::NAME
            })
        }
    })
    .await;
    // and a run-time upsert does not take it back
    let (id, message) = refusal(
        env.client
            .upsert_schedule(recording(triggered::ID, "0 0 6 * * *", "runtime"))
            .await,
    );
    assert_eq!(id, triggered::ID);
    assert!(message.contains("#[recurring]"), "{message}");
    worker.shutdown().await;
    let stored = schedule(&env, triggered::ID).await.unwrap();
    assert_eq!(
        (stored.kind.as_str(), stored.cron.as_str(), stored.origin),
        (triggered::NAME, "0 0 3 * * *", ScheduleOrigin::Declared)
    );
}
