//! Operating it (SPEC §12): live workers and health.

use std::time::Duration;

use crate::backend::{WorkerHeartbeatParams, WorkerRemoveParams};
use crate::testing::jobs::{record, typed, waits_for_cancel};
use crate::testing::{Env, eventually, wait_for_state};
use crate::{HealthStatus, HealthThresholds, JobState, WorkerInfo, WorkerQueue};

/// The live worker `id`, if listed.
async fn listed(env: &Env, id: &str) -> Option<WorkerInfo> {
    let workers = env.client.workers().await.expect("list workers");
    workers.into_iter().find(|worker| worker.id == id)
}

async fn wait_until_listed(env: &Env, id: &str) -> WorkerInfo {
    let client = env.client.clone();
    let wanted = id.to_owned();
    eventually("the worker is listed", move || {
        let client = client.clone();
        let wanted = wanted.clone();
        async move {
            let workers = client.workers().await.expect("list workers");
            workers.iter().any(|worker| worker.id == wanted)
        }
    })
    .await;
    listed(env, id).await.expect("listed")
}

pub async fn a_started_worker_is_listed_with_its_queues(env: Env) {
    assert!(env.client.workers().await.unwrap().is_empty());
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let worker = env
        .worker(&[record::NAME])
        .queue("ops_first", 2)
        .queue("ops_second", 3)
        .build()
        .unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    let info = wait_until_listed(&env, &id).await;
    assert_eq!(
        info.queues,
        [
            WorkerQueue {
                name: "ops_first".into(),
                concurrency: 2
            },
            WorkerQueue {
                name: "ops_second".into(),
                concurrency: 3
            },
        ]
    );
    assert_eq!(info.pid, std::process::id());
    assert!(!info.hostname.is_empty());
    assert!(
        id.starts_with(&info.hostname),
        "the id names the host: {info:?}"
    );
    assert_eq!(info.running, 0);
    assert!(info.started_at >= before, "{info:?}");
    assert!(info.last_seen_at >= info.started_at, "{info:?}");
    // it stays listed while it runs: its heartbeats outlive a lease
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let later = listed(&env, &id).await.expect("still listed");
    assert!(later.last_seen_at > info.last_seen_at, "{later:?}");
    assert_eq!(env.client.workers().await.unwrap().len(), 1);
    handle.shutdown().await;
}

pub async fn a_workers_running_count_reflects_a_running_job(env: Env) {
    let job = waits_for_cancel::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[waits_for_cancel::NAME]).build().unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_for_state(&env.client, job, JobState::Running).await;
    let client = env.client.clone();
    let wanted = id.clone();
    eventually("the worker reports one running attempt", move || {
        let client = client.clone();
        let wanted = wanted.clone();
        async move {
            let workers = client.workers().await.unwrap();
            workers
                .iter()
                .any(|worker| worker.id == wanted && worker.running == 1)
        }
    })
    .await;
    assert!(env.client.cancel(job).await.unwrap());
    let client = env.client.clone();
    eventually("the worker reports no running attempt", move || {
        let client = client.clone();
        let wanted = id.clone();
        async move {
            let workers = client.workers().await.unwrap();
            workers
                .iter()
                .any(|worker| worker.id == wanted && worker.running == 0)
        }
    })
    .await;
    handle.shutdown().await;
}

pub async fn a_worker_is_gone_after_graceful_shutdown(env: Env) {
    let worker = env.worker(&[record::NAME]).build().unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_until_listed(&env, &id).await;
    handle.shutdown().await;
    assert_eq!(
        listed(&env, &id).await,
        None,
        "a worker that shut down is not listed"
    );
    assert!(env.client.workers().await.unwrap().is_empty());
}

pub async fn a_worker_that_stops_heartbeating_drops_off_within_its_lease(env: Env) {
    let queues = [WorkerQueue {
        name: "default".into(),
        concurrency: 4,
    }];
    let started_at = chrono::Utc::now();
    let beat = |id: &'static str, running: u32, lease: Duration| WorkerHeartbeatParams {
        id,
        hostname: "ops-host",
        pid: 4242,
        queues: &queues,
        running,
        started_at,
        lease,
    };
    let backend = &env.backend;
    let short = Duration::from_millis(1_500);
    let beaten = tokio::time::Instant::now();
    backend
        .worker_heartbeat(beat("ops-short", 1, short))
        .await
        .unwrap();
    backend
        .worker_heartbeat(beat("ops-long", 0, Duration::from_secs(600)))
        .await
        .unwrap();
    // a heartbeat replaces the worker's earlier one
    backend
        .worker_heartbeat(beat("ops-long", 3, Duration::from_secs(600)))
        .await
        .unwrap();
    let workers = env.client.workers().await.unwrap();
    let ids: Vec<&str> = workers.iter().map(|worker| worker.id.as_str()).collect();
    assert_eq!(ids, ["ops-long", "ops-short"], "live workers, by id");
    let long = &workers[0];
    assert_eq!(
        (long.hostname.as_str(), long.pid, long.running),
        ("ops-host", 4242, 3)
    );
    assert_eq!(long.queues, queues);
    assert_eq!(
        long.started_at.timestamp_micros(),
        started_at.timestamp_micros()
    );

    assert!(
        beaten.elapsed() < short,
        "the checks above took longer than the short lease"
    );
    tokio::time::sleep_until(beaten + short + Duration::from_millis(200)).await;
    let workers = env.client.workers().await.unwrap();
    let ids: Vec<&str> = workers.iter().map(|worker| worker.id.as_str()).collect();
    assert_eq!(ids, ["ops-long"], "the silent worker dropped off");
    // the leader's maintenance forgets it for good; the live one stays
    assert_eq!(backend.worker_prune().await.unwrap(), 1);
    assert_eq!(backend.worker_prune().await.unwrap(), 0);
    assert_eq!(env.client.workers().await.unwrap().len(), 1);
    let remove = |id| WorkerRemoveParams { id };
    assert!(backend.worker_remove(remove("ops-long")).await.unwrap());
    assert!(!backend.worker_remove(remove("ops-long")).await.unwrap());
    assert!(env.client.workers().await.unwrap().is_empty());
}

pub async fn health_is_healthy_for_a_served_store(env: Env) {
    let health = env.client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    assert!(health.reasons.is_empty());
    let worker = env.worker(&[record::NAME]).build().unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_until_listed(&env, &id).await;
    let job = record::enqueue(&env.client, "served".into()).await.unwrap();
    wait_for_state(&env.client, job, JobState::Completed).await;
    let health = env.client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    handle.shutdown().await;
}

pub async fn health_flags_available_jobs_no_live_worker_serves(env: Env) {
    record::with("nobody".into())
        .queue("ops_unserved")
        .enqueue(&env.client)
        .await
        .unwrap();
    let health = env.client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert_eq!(
        health.reasons,
        ["queue `ops_unserved` has 1 available job, but no live worker serves it"]
    );
    // a worker serving another queue does not help
    let worker = env.worker(&[record::NAME]).build().unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_until_listed(&env, &id).await;
    let health = env.client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    handle.shutdown().await;
}

pub async fn health_flags_a_queue_waiting_past_the_threshold(env: Env) {
    // due ten minutes ago, of a kind the queue's worker does not run: it
    // stays available, its wait growing
    let due = chrono::Utc::now() - chrono::Duration::minutes(10);
    let job = typed::with(1, "late".into())
        .queue("ops_lagging")
        .run_at(due)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[record::NAME])
        .queue("ops_lagging", 1)
        .build()
        .unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_until_listed(&env, &id).await;

    let strict = HealthThresholds {
        max_queue_lag: Duration::from_secs(60),
        ..HealthThresholds::default()
    };
    let health = env.client.health_with(strict).await.unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert_eq!(health.reasons.len(), 1, "{health:?}");
    assert!(
        health.reasons[0].starts_with("queue `ops_lagging`: its oldest available job has waited"),
        "{health:?}"
    );
    // the default threshold (5 minutes) is passed too
    let health = env.client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    // a threshold above the wait finds nothing
    let lenient = HealthThresholds {
        max_queue_lag: Duration::from_secs(3_600),
        ..HealthThresholds::default()
    };
    let health = env.client.health_with(lenient).await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    assert!(env.client.delete(job).await.unwrap());
    handle.shutdown().await;
}

pub async fn trigger_schedule_enqueues_the_stored_job_now(env: Env) {
    use crate::ScheduleOrigin;
    use crate::backend::{ScheduleRestart, ScheduleSpec, ScheduleUpsertParams, ScheduledJob};
    use crate::cron::Misfire;

    let spec = ScheduleSpec {
        id: "ops-nightly".into(),
        cron: "0 0 3 * * *".into(),
        tz: "UTC".into(),
        misfire: Misfire::Skip,
        job: ScheduledJob {
            kind: record::NAME.into(),
            queue: "ops_reports".into(),
            args: r#"{"label":"triggered"}"#.into(),
            priority: 2,
            max_attempts: 4,
            version: 1,
        },
        origin: ScheduleOrigin::Runtime,
    };
    let next = chrono::Utc::now() + chrono::Duration::hours(5);
    let params = ScheduleUpsertParams {
        spec: &spec,
        next_run_at: next,
        declared_for: Duration::ZERO,
        restart: ScheduleRestart::OnAnyChange,
    };
    env.backend.schedule_upsert(params).await.unwrap();

    let id = env.client.trigger_schedule("ops-nightly").await.unwrap();
    let job = env.client.job(id).await.unwrap().expect("stored");
    assert_eq!(
        (job.kind.as_str(), job.queue.as_str(), job.state),
        (record::NAME, "ops_reports", JobState::Available)
    );
    assert_eq!(job.args, serde_json::json!({"label": "triggered"}));
    assert_eq!((job.priority, job.max_attempts), (2, 4));
    let schedules = env.client.schedules().await.unwrap();
    assert_eq!(
        schedules[0].next_run_at.timestamp(),
        next.timestamp(),
        "the next tick does not move"
    );
    assert_eq!(schedules[0].last_run_at, None);

    let unknown = env.client.trigger_schedule("ops-missing").await;
    assert!(
        matches!(&unknown, Err(crate::Error::UnknownSchedule(id)) if id == "ops-missing"),
        "{unknown:?}"
    );
    assert_eq!(
        unknown.unwrap_err().to_string(),
        "no recurring schedule with id `ops-missing` is stored"
    );
}

pub async fn the_leader_forgets_workers_that_stopped_heartbeating(env: Env) {
    let queues = [WorkerQueue {
        name: "default".into(),
        concurrency: 1,
    }];
    let gone = WorkerHeartbeatParams {
        id: "ops-gone",
        hostname: "ops-host",
        pid: 1,
        queues: &queues,
        running: 0,
        started_at: chrono::Utc::now(),
        lease: Duration::from_millis(100),
    };
    env.backend.worker_heartbeat(gone).await.unwrap();
    // a leader whose maintenance runs every 200 ms
    let worker = env.worker(&[record::NAME]).build().unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    wait_until_listed(&env, &id).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        env.backend.worker_prune().await.unwrap(),
        0,
        "the leader's maintenance pruned the expired row already"
    );
    let ids: Vec<String> = env
        .client
        .workers()
        .await
        .unwrap()
        .into_iter()
        .map(|worker| worker.id)
        .collect();
    assert_eq!(ids, [id], "the live worker is kept");
    handle.shutdown().await;
}
