//! Recurring schedules in a mixed fleet, with real worker processes: the
//! leader ticks every stored schedule, whether its own binary declares it
//! or not, so a fleet split with `.only(..)` and a rolling deploy that adds
//! a schedule lose no tick.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jobs_core::{JobFilter, JobState};
use jobs_postgres::sqlx::{self, AssertSqlSafe};

use crate::jobs::{quick, tick};
use crate::{SERIAL, Scene};

/// The pid of the worker holding the leadership, if any (worker ids are
/// `host-pid-random`).
async fn leader_pid(scene: &Scene) -> Option<u32> {
    let leader: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT worker_id FROM \"{}\".leader WHERE expires_at > now()",
        scene.backend.schema()
    )))
    .fetch_optional(scene.backend.pool())
    .await
    .expect("read the leader");
    leader?.rsplit('-').nth(1)?.parse().ok()
}

/// Starts a worker that runs only `quick` (so it declares no schedule) and
/// waits until it leads.
async fn spawn_leader_without_schedules(scene: &mut Scene) -> u32 {
    let index = scene.spawn("default:2", &[quick::NAME]);
    let pid = scene.pid(index);
    let deadline = Instant::now() + Duration::from_secs(20);
    while leader_pid(scene).await != Some(pid) {
        assert!(
            Instant::now() < deadline,
            "the first worker never led\n{}",
            scene.outputs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pid
}

/// The due times of the tick jobs stored so far, checked to be one per
/// second with none twice.
pub(crate) async fn ticks(scene: &Scene) -> Vec<chrono::DateTime<chrono::Utc>> {
    let jobs = scene
        .client
        .list(JobFilter::new().kind(tick::NAME).limit(10_000))
        .await
        .expect("list the ticks");
    let due: Vec<_> = jobs.iter().map(|job| job.scheduled_at).collect();
    let distinct: BTreeSet<_> = due.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        due.len(),
        "a tick produced two jobs: {due:?}"
    );
    let sorted: Vec<_> = distinct.into_iter().collect();
    for pair in sorted.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            chrono::Duration::seconds(1),
            "a tick was lost: {sorted:?}"
        );
    }
    sorted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_narrowed_away_from_a_schedule_still_ticks_it_once_per_tick() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new("mixed-fleet").await;
    let leader = spawn_leader_without_schedules(&mut scene).await;
    // the other half of the fleet declares the schedule and runs its jobs
    let runner = scene.spawn("default:2", &[tick::NAME]);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        leader_pid(&scene).await,
        Some(leader),
        "the worker without the schedule led throughout"
    );
    let due = ticks(&scene).await;
    assert!(due.len() >= 5, "only {} ticks in 8 s: {due:?}", due.len());
    let runner_pid = scene.pid(runner);
    let runs: Vec<_> = scene
        .events()
        .into_iter()
        .filter(|event| event.event == "start" && event.pid == runner_pid)
        .collect();
    assert!(
        runs.len() >= 4,
        "the ticks ran on the worker that has the job: {runs:?}"
    );
    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_only_a_newly_started_worker_declares_ticks_while_an_old_one_leads() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new("rolling-deploy").await;
    let old = spawn_leader_without_schedules(&mut scene).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        scene.client.schedules().await.unwrap().is_empty(),
        "the old binary stores no schedule"
    );

    // the new binary adds the schedule
    let new = scene.spawn("default:2", &[tick::NAME]);
    let deployed = chrono::Utc::now();
    let first = scene
        .wait_for_event("the first tick's run", Duration::from_secs(10), |event| {
            event.event == "start"
        })
        .await;
    assert_eq!(first.pid, scene.pid(new));
    eprintln!(
        "rolling deploy: first tick ran {} ms after the new worker started",
        first.at - deployed.timestamp_millis()
    );
    let schedules = scene.client.schedules().await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].id, tick::ID);
    assert!(!schedules[0].orphaned, "{schedules:?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        leader_pid(&scene).await,
        Some(old),
        "the old worker still leads"
    );

    // the new worker goes away: the schedule is reported orphaned and keeps
    // ticking (its jobs wait for a worker that runs them)
    let stopped = scene.workers.remove(1);
    stopped.stop();
    let orphaned_by = Instant::now() + scene.lease + Duration::from_secs(5);
    loop {
        let schedules = scene.client.schedules().await.unwrap();
        if schedules[0].orphaned {
            break;
        }
        assert!(
            Instant::now() < orphaned_by,
            "never reported orphaned: {schedules:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = ticks(&scene).await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = ticks(&scene).await;
    assert!(
        after.len() >= before + 2,
        "ticks went on: {before} then {}",
        after.len()
    );
    let waiting = scene
        .client
        .list(JobFilter::new().kind(tick::NAME).state(JobState::Available))
        .await
        .unwrap();
    assert!(
        !waiting.is_empty(),
        "the late ticks wait for a worker that runs them"
    );
    scene.finish().await;
}
