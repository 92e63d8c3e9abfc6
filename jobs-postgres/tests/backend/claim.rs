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

    let info = backend
        .job_get(JobIdParams { id: ids[2] })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.state, JobState::Running);
    assert_eq!(info.attempt, 1);
    assert!(info.attempted_at.is_some());
    // a claim of nothing still says when the waiting job becomes due
    let empty = backend.job_fetch(request(&["a"], 10)).await.unwrap();
    assert!(empty.jobs.is_empty());
    assert_eq!(empty.next_due_at, Some(due));
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
    let unknown = backend
        .job_get(JobIdParams { id: ids[0] })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unknown.state, JobState::Available);
    assert_eq!(unknown.attempt, 0);
    let counts = backend.job_counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Available), 1);
    assert_eq!(counts.get("default", JobState::Running), 1);
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
    let first = backend
        .job_get(JobIdParams { id: ids[1] })
        .await
        .unwrap()
        .unwrap();
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
        !backend.job_retry(JobIdParams { id: ids[0] }).await.unwrap(),
        "already available: nothing to retry"
    );
    drop_schema(&backend).await;
}
