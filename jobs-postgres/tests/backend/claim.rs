//! Claiming and completing: order, batches, the kind filter, fencing by
//! attempt, and where each outcome leaves a job.

use super::*;

#[tokio::test]
async fn fetch_claims_by_priority_then_time_then_id() {
    let backend = fresh_backend().await;
    let past = Utc::now() - chrono::Duration::seconds(60);
    let future = Utc::now() + chrono::Duration::seconds(3600);
    let specs: Vec<(i16, Option<DateTime<Utc>>)> = vec![
        (5, None),
        (0, None),
        (-5, None),
        (0, Some(past)),
        (-5, Some(future)),
        (0, None),
    ];
    let ids = insert(
        &backend,
        specs
            .iter()
            .map(|&(priority, at)| NewJob {
                priority,
                scheduled_at: at,
                ..job("a")
            })
            .collect(),
    )
    .await;
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids grow in order: {ids:?}"
    );
    assert_eq!(state_of(&backend, ids[4]).await, JobState::Scheduled);
    assert_eq!(state_of(&backend, ids[0]).await, JobState::Available);

    let batch = backend.job_fetch(request(&["a"], 10)).await.unwrap();
    let order: Vec<JobId> = batch.jobs.iter().map(|j| j.id).collect();
    assert_eq!(order, [ids[2], ids[3], ids[1], ids[5], ids[0]]);
    assert!(
        batch
            .jobs
            .iter()
            .all(|j| j.attempt == 1 && j.max_attempts == 3)
    );
    let due = batch.next_due_at.expect("the future job's time");
    assert!(
        (due - future).num_milliseconds().abs() < 5,
        "{due} vs {future}"
    );

    let info = backend.job_get(ids[2]).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Running);
    assert_eq!(info.attempt, 1);
    assert!(info.attempted_at.is_some());
    assert!(
        backend
            .job_fetch(request(&["a"], 10))
            .await
            .unwrap()
            .jobs
            .is_empty()
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_full_batch_is_limited_and_concurrent_fetches_never_share_a_job() {
    let backend = fresh_backend().await;
    insert(&backend, (0..200).map(|_| job("a")).collect()).await;
    let first = backend.job_fetch(request(&["a"], 7)).await.unwrap();
    assert_eq!(first.jobs.len(), 7);
    assert_eq!(first.next_due_at, None, "not asked after a full batch");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let backend = backend.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = backend.job_fetch(request(&["a"], 5)).await.unwrap();
                if batch.jobs.is_empty() {
                    return mine;
                }
                mine.extend(batch.jobs.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all: Vec<JobId> = first.jobs.iter().map(|j| j.id).collect();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), claimed, "a job was claimed twice");
    assert_eq!(claimed, 200);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn unknown_kinds_stay_available() {
    let backend = fresh_backend().await;
    let ids = insert(&backend, vec![job("unknown"), job("known")]).await;
    let batch = backend
        .job_fetch(request(&["known", "other"], 10))
        .await
        .unwrap();
    assert_eq!(
        batch.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let unknown = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(unknown.state, JobState::Available);
    assert_eq!(unknown.attempt, 0);
    let counts = backend.job_counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Available), 1);
    assert_eq!(counts.get("default", JobState::Running), 1);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn completions_are_fenced_by_attempt() {
    let backend = fresh_backend().await;
    let id = insert(&backend, vec![job("a")]).await[0];
    let first = backend.job_fetch(request(&["a"], 1)).await.unwrap().jobs;
    assert_eq!(first[0].attempt, 1);

    // the worker stalls past its lease; the rescuer puts the job back
    expire_lease(&backend, id).await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.rescued, 1);
    let rescued = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(
        rescued.state,
        JobState::Available,
        "retryable, and due at once"
    );
    assert_eq!(rescued.errors.len(), 1);
    assert_eq!(rescued.errors[0].attempt, 1);
    assert!(
        rescued.errors[0].message.starts_with("worker lost"),
        "{:?}",
        rescued.errors
    );

    // the stale worker's heartbeat learns its attempt is gone
    let gone = backend.job_heartbeat(&[(id, 1)], LEASE).await.unwrap();
    assert_eq!(gone, [id]);

    let second = backend.job_fetch(request(&["a"], 1)).await.unwrap().jobs;
    assert_eq!(second[0].attempt, 2);
    // the stale worker wakes up and reports success: ignored
    backend
        .job_complete_many(vec![Completion {
            id,
            attempt: 1,
            outcome: Outcome::Completed,
        }])
        .await
        .unwrap();
    let info = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Running);
    assert_eq!(info.attempt, 2);
    assert_eq!(
        backend.job_heartbeat(&[(id, 2)], LEASE).await.unwrap(),
        Vec::<JobId>::new()
    );

    backend
        .job_complete_many(vec![Completion {
            id,
            attempt: 2,
            outcome: Outcome::Dead {
                error: attempt_error(2, "bad input"),
            },
        }])
        .await
        .unwrap();
    let dead = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.finished_at.is_some());
    assert_eq!(
        dead.errors
            .iter()
            .map(|e| (e.attempt, e.message.as_str()))
            .collect::<Vec<_>>()[1],
        (2, "bad input")
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn every_outcome_lands_in_its_state() {
    let backend = fresh_backend().await;
    let ids = insert(&backend, (0..6).map(|_| job("a")).collect()).await;
    let jobs = backend.job_fetch(request(&["a"], 6)).await.unwrap().jobs;
    assert_eq!(jobs.len(), 6);
    let later = Utc::now() + chrono::Duration::seconds(600);
    let outcomes = [
        Outcome::Completed,
        Outcome::Retry {
            at: later,
            error: attempt_error(1, "boom"),
        },
        Outcome::Dead {
            error: attempt_error(1, "fatal"),
        },
        Outcome::Snooze { at: later },
        Outcome::Cancelled {
            error: attempt_error(1, "not needed"),
        },
        Outcome::Release,
    ];
    backend
        .job_complete_many(
            ids.iter()
                .zip(outcomes)
                .map(|(&id, outcome)| Completion {
                    id,
                    attempt: 1,
                    outcome,
                })
                .collect(),
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    for &id in &ids {
        let info = backend.job_get(id).await.unwrap().unwrap();
        got.push((
            info.state,
            info.attempt,
            info.errors.len(),
            info.finished_at.is_some(),
        ));
    }
    assert_eq!(
        got,
        [
            (JobState::Completed, 1, 0, true),
            (JobState::Retryable, 1, 1, false),
            (JobState::Dead, 1, 1, true),
            (JobState::Scheduled, 0, 0, false),
            (JobState::Cancelled, 1, 1, true),
            (JobState::Available, 0, 0, false),
        ]
    );
    let retry = backend.job_get(ids[1]).await.unwrap().unwrap();
    assert!((retry.scheduled_at - later).num_milliseconds().abs() < 5);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn waiting_jobs_read_as_available_once_due() {
    let backend = fresh_backend().await;
    let soon = Utc::now() + chrono::Duration::milliseconds(300);
    let ids = insert(
        &backend,
        vec![
            NewJob {
                scheduled_at: Some(soon),
                ..job("a")
            },
            job("a"),
        ],
    )
    .await;
    let counts = backend.job_counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Scheduled), 1);
    assert_eq!(counts.get("default", JobState::Available), 1);
    let first = backend.job_get(ids[1]).await.unwrap().unwrap();
    assert_eq!(
        counts["default"].oldest_available_at,
        Some(first.scheduled_at)
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(state_of(&backend, ids[0]).await, JobState::Available);
    let counts = backend.job_counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Available), 2);
    assert_eq!(counts.get("default", JobState::Scheduled), 0);
    let filter = jobs_core::JobFilter::new().state(JobState::Available);
    assert_eq!(backend.job_list(&filter).await.unwrap().len(), 2);
    assert!(
        !backend.job_retry(ids[0]).await.unwrap(),
        "already available: nothing to retry"
    );
    drop_schema(&backend).await;
}
