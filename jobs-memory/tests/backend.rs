//! `MemoryBackend` through the `Backend` trait, as the client and worker use
//! it: backpressure, wake-ups, the clock, and what a client reads back.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use jobs_core::backend::{
    FetchedBatch, InsertMode, JobCompleteManyParams, JobExpiredListParams, JobFetchParams,
    JobHeartbeatParams, JobIdParams, JobInsertManyParams, JobPruneParams, JobRescueManyParams,
    JobTransition, NewJob, RunningAttempt, ScheduleAdvanceParams, ScheduleRemoveParams,
    ScheduleSpec, ScheduleUpsertParams, ScheduledJob,
};
use jobs_core::{Backend, Client, Clock, EnqueueError, JobFilter, JobId, JobState, ManualClock};
use jobs_memory::MemoryBackend;

const LEASE: Duration = Duration::from_secs(30);

fn job(kind: &str) -> NewJob {
    NewJob {
        kind: kind.to_owned().into(),
        queue: "default".into(),
        args: r#"{"user_id":42}"#.into(),
        priority: 0,
        max_attempts: 3,
        version: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

async fn fetch(backend: &MemoryBackend, limit: usize) -> FetchedBatch {
    backend
        .job_fetch(JobFetchParams {
            queue: "default",
            kinds: &["a"],
            versions: &[],
            limit,
            worker_id: "test",
            lease: LEASE,
        })
        .await
        .expect("fetch")
}

/// A transition to `state`, the attempt counted, with no new due time or error.
fn to(id: JobId, attempt: u32, state: JobState) -> JobTransition {
    JobTransition {
        run: RunningAttempt { id, attempt },
        state,
        scheduled_at: None,
        attempt_counted: true,
        error: None,
    }
}

async fn finish(backend: &MemoryBackend, transition: JobTransition) {
    let params = JobCompleteManyParams {
        transitions: vec![transition],
    };
    backend.job_complete_many(params).await.expect("complete");
}

async fn insert(
    backend: &MemoryBackend,
    jobs: Vec<NewJob>,
    mode: InsertMode,
) -> Result<Vec<JobId>, EnqueueError> {
    backend
        .job_insert_many(JobInsertManyParams { jobs, mode })
        .await
}

#[tokio::test]
async fn try_insert_into_a_full_backend_fails_and_stores_nothing() {
    let backend = MemoryBackend::with_capacity(2);
    insert(&backend, vec![job("a")], InsertMode::Try)
        .await
        .expect("room");
    let full = insert(&backend, vec![job("a"), job("a")], InsertMode::Try).await;
    assert!(matches!(full, Err(EnqueueError::QueueFull { capacity: 2 })));
    assert_eq!(backend.len(), 1);
    let message = full.expect_err("full").to_string();
    assert!(message.contains("capacity of 2"), "{message}");
}

#[tokio::test]
async fn a_batch_larger_than_the_capacity_fails_at_once_even_when_waiting() {
    let backend = MemoryBackend::with_capacity(2);
    let batch = vec![job("a"), job("a"), job("a")];
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        insert(&backend, batch, InsertMode::Wait),
    )
    .await
    .expect("does not wait");
    assert!(matches!(
        result,
        Err(EnqueueError::QueueFull { capacity: 2 })
    ));
    assert!(backend.is_empty());
}

#[tokio::test]
async fn a_waiting_insert_goes_through_when_a_job_finishes() {
    let backend = MemoryBackend::with_capacity(1);
    let first = insert(&backend, vec![job("a")], InsertMode::Wait)
        .await
        .expect("room");
    let waiting = tokio::spawn({
        let backend = backend.clone();
        async move { insert(&backend, vec![job("a")], InsertMode::Wait).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "the backend is full");
    assert_eq!(backend.len(), 1);

    let claimed = fetch(&backend, 1).await;
    assert_eq!(claimed.jobs[0].id, first[0]);
    finish(&backend, to(first[0], 1, JobState::Completed)).await;
    let second = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken by the completion")
        .expect("task")
        .expect("stored");
    assert_eq!(second, [JobId::new(2)]);
    assert_eq!(backend.len(), 1);
}

#[tokio::test]
async fn a_dropped_waiting_insert_stores_nothing_and_leaves_the_backend_usable() {
    let backend = MemoryBackend::with_capacity(1);
    let first = insert(&backend, vec![job("a")], InsertMode::Wait)
        .await
        .expect("room");
    let gave_up = tokio::time::timeout(
        Duration::from_millis(20),
        insert(&backend, vec![job("a")], InsertMode::Wait),
    )
    .await;
    assert!(gave_up.is_err());
    assert!(
        backend
            .job_delete(JobIdParams { id: first[0] })
            .await
            .expect("delete")
    );
    let ids = insert(&backend, vec![job("a")], InsertMode::Try)
        .await
        .expect("room");
    assert_eq!(ids, [JobId::new(2)]);
}

#[tokio::test]
async fn inserts_and_releases_wake_the_queue() {
    let backend = MemoryBackend::new();
    let mut wakeup = backend.job_wakeup("default");
    let mut other = backend.job_wakeup("other");
    wakeup.mark_seen();
    other.mark_seen();
    let mut later = job("a");
    later.scheduled_at = Some(Utc::now() + TimeDelta::hours(1));
    insert(&backend, vec![later], InsertMode::Try)
        .await
        .expect("room");
    assert!(
        wakeup.wait(Duration::from_secs(5)).await,
        "a scheduled job wakes too"
    );
    assert!(!other.wait(Duration::from_millis(10)).await);

    let ids = insert(&backend, vec![job("a")], InsertMode::Try)
        .await
        .expect("room");
    assert!(wakeup.wait(Duration::from_secs(5)).await);
    wakeup.mark_seen();
    fetch(&backend, 1).await;
    let mut release = to(ids[0], 1, JobState::Available);
    release.attempt_counted = false;
    finish(&backend, release).await;
    assert!(
        wakeup.wait(Duration::from_secs(5)).await,
        "a released job is ready again"
    );
}

#[tokio::test]
async fn a_client_reads_back_what_the_worker_did() {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let ids = insert(&backend, vec![job("a"), job("a")], InsertMode::Wait)
        .await
        .expect("room");
    let batch = fetch(&backend, 1).await;
    let error = jobs_core::AttemptError {
        attempt: 1,
        message: "smtp timeout".into(),
        at: Utc::now(),
    };
    let retry_at = Utc::now() + TimeDelta::minutes(5);
    let mut retry = to(batch.jobs[0].id, 1, JobState::Retryable);
    retry.scheduled_at = Some(retry_at);
    retry.error = Some(error.clone());
    finish(&backend, retry).await;

    let info = client.job(ids[0]).await.expect("read").expect("stored");
    assert_eq!(info.state, JobState::Retryable);
    assert_eq!(info.args, serde_json::json!({ "user_id": 42 }));
    assert_eq!((info.attempt, info.max_attempts), (1, 3));
    assert_eq!(info.errors, [error]);
    assert_eq!(info.scheduled_at, retry_at);
    assert!(client.job(JobId::new(99)).await.expect("read").is_none());

    let listed = client
        .list(JobFilter::new().state(JobState::Available))
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|job| job.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let counts = client.counts().await.expect("counts");
    assert_eq!(
        (counts["default"].retryable, counts["default"].available),
        (1, 1)
    );

    assert!(client.cancel(ids[1]).await.expect("cancel"));
    assert!(client.retry(ids[1]).await.expect("retry"));
    assert!(client.delete(ids[1]).await.expect("delete"));
    assert_eq!(backend.len(), 1);
}

#[tokio::test]
async fn a_client_cancel_reaches_the_worker_through_its_heartbeat() {
    let backend = MemoryBackend::new();
    let ids = insert(&backend, vec![job("a"), job("a")], InsertMode::Wait)
        .await
        .expect("room");
    fetch(&backend, 2).await;
    assert!(
        backend
            .job_cancel(JobIdParams { id: ids[0] })
            .await
            .expect("cancel")
    );
    let running = [
        RunningAttempt {
            id: ids[0],
            attempt: 1,
        },
        RunningAttempt {
            id: ids[1],
            attempt: 1,
        },
    ];
    let lost = backend
        .job_heartbeat(JobHeartbeatParams {
            running: &running,
            lease: LEASE,
        })
        .await
        .expect("heartbeat");
    assert_eq!(lost, [ids[0]]);
    finish(&backend, to(ids[0], 1, JobState::Completed)).await;
    let info = backend
        .job_get(JobIdParams { id: ids[0] })
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(info.state, JobState::Cancelled);
    assert!(info.finished_at.is_some());
}

#[tokio::test]
async fn a_manual_clock_decides_due_times_leases_and_retention() {
    let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let clock = ManualClock::new(start);
    let backend = MemoryBackend::new().clock(clock.clone());
    let mut later = job("a");
    later.scheduled_at = Some(start + TimeDelta::minutes(10));
    let ids = insert(&backend, vec![later, job("a")], InsertMode::Wait)
        .await
        .expect("room");
    let batch = fetch(&backend, 10).await;
    assert_eq!(batch.jobs.len(), 1);
    assert_eq!(batch.next_due_at, Some(start + TimeDelta::minutes(10)));
    assert_eq!(batch.jobs[0].attempt, 1);

    // the lease runs out by the backend's clock
    let expired = JobExpiredListParams { limit: 10 };
    assert!(
        backend
            .job_expired_list(expired)
            .await
            .expect("list")
            .is_empty()
    );
    clock.advance(TimeDelta::seconds(31));
    let listed = backend.job_expired_list(expired).await.expect("list");
    assert_eq!(
        listed.iter().map(|job| job.run.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let mut back = to(ids[1], 1, JobState::Available);
    back.attempt_counted = false;
    let rescue = JobRescueManyParams {
        transitions: vec![back],
    };
    assert_eq!(backend.job_rescue_many(rescue).await.expect("rescue"), 1);

    // the scheduled job comes due
    clock.advance(TimeDelta::minutes(10));
    let batch = fetch(&backend, 10).await;
    let claimed: Vec<JobId> = batch.jobs.iter().map(|job| job.id).collect();
    assert_eq!(claimed, [ids[1], ids[0]]);
    for job in &batch.jobs {
        finish(&backend, to(job.id, job.attempt, JobState::Completed)).await;
    }
    clock.advance(TimeDelta::hours(2));
    let prune = JobPruneParams {
        completed_before: clock.now() - TimeDelta::hours(1),
        failed_before: clock.now(),
        limit: 10,
    };
    assert_eq!(backend.job_prune(prune).await.expect("prune"), 2);
    assert!(
        backend
            .job_get(JobIdParams { id: ids[0] })
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn schedules_are_stored_and_ticked_once() {
    let backend = MemoryBackend::new();
    let spec = ScheduleSpec {
        id: "nightly".into(),
        cron: "0 0 2 * * *".into(),
        tz: "Europe/Berlin".into(),
        misfire: jobs_core::cron::Misfire::Once,
        job: ScheduledJob {
            kind: "report".into(),
            queue: "default".into(),
            args: "{}".into(),
            priority: 0,
            max_attempts: 4,
            version: 1,
        },
        origin: jobs_core::ScheduleOrigin::Declared,
    };
    let first = Utc.with_ymd_and_hms(2030, 1, 1, 1, 0, 0).unwrap();
    let second = first + TimeDelta::days(1);
    let upsert = ScheduleUpsertParams {
        spec: &spec,
        next_run_at: first,
        declared_for: LEASE,
        restart: jobs_core::backend::ScheduleRestart::OnTimingChange,
    };
    let stored = backend.schedule_upsert(upsert).await.expect("upsert");
    assert_eq!((stored.next_run_at, stored.last_run_at), (first, None));
    let advance = || ScheduleAdvanceParams {
        spec: &spec,
        expected_next: first,
        next_run_at: second,
        jobs: vec![job("report")],
    };
    let (a, b) = tokio::join!(
        backend.schedule_advance(advance()),
        backend.schedule_advance(advance()),
    );
    assert_eq!(
        [a.expect("advance"), b.expect("advance")]
            .iter()
            .filter(|won| **won)
            .count(),
        1
    );
    assert_eq!(backend.len(), 1, "one job for the tick");
    let listed = backend.schedule_list().await.expect("list");
    assert_eq!(listed[0].next_run_at, second);
    assert!(
        backend
            .schedule_remove(ScheduleRemoveParams { id: "nightly" })
            .await
            .expect("remove")
    );
    assert!(backend.schedule_list().await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producers_and_a_consumer_agree_on_every_job() {
    let backend = MemoryBackend::with_capacity(64);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for _ in 0..250 {
                    insert(&backend, vec![job("a"), job("a")], InsertMode::Wait)
                        .await
                        .expect("stored");
                }
            })
        })
        .collect();
    let mut done = 0;
    while done < 2_000 {
        let batch = fetch(&backend, 50).await;
        if batch.jobs.is_empty() {
            tokio::task::yield_now().await;
            continue;
        }
        done += batch.jobs.len();
        let transitions = batch
            .jobs
            .iter()
            .map(|job| to(job.id, job.attempt, JobState::Completed))
            .collect();
        backend
            .job_complete_many(JobCompleteManyParams { transitions })
            .await
            .expect("complete");
    }
    for producer in producers {
        producer.await.expect("producer");
    }
    assert!(backend.is_empty());
    let counts = backend.job_counts().await.expect("counts");
    assert_eq!(counts["default"].completed, 2_000);
}

#[test]
fn the_backend_is_a_cheap_shared_handle() {
    fn shared<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    shared::<MemoryBackend>();
    let backend = MemoryBackend::with_capacity(5).max_finished(10);
    let clone = backend.clone();
    assert_eq!(clone.capacity(), 5);
    let dynamic: Arc<dyn Backend> = Arc::new(clone);
    drop(dynamic);
    let debug = format!("{backend:?}");
    assert!(debug.contains("capacity: 5"), "{debug}");
    assert_eq!(
        MemoryBackend::default().capacity(),
        jobs_memory::DEFAULT_CAPACITY
    );
}
