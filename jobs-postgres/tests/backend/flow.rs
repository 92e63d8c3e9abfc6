//! Limited claims under real concurrency: many connections claiming one
//! limited kind at once never exceed its limits (the per-kind advisory
//! lock), and the unlimited claim never touches a paused queue.

use jobs_core::backend::{ConcurrencyLimit, FlowLimits, QueuePauseParams, RateLimit};

use super::*;

/// Claims of `limits` from `callers` tasks at once; returns every claimed id.
async fn race(backend: &PgBackend, limits: FlowLimits, callers: usize) -> Vec<JobId> {
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let backend = backend.clone();
        tasks.push(tokio::spawn(async move {
            let request = JobFetchParams {
                flow: Some(limits),
                ..request(&["a"], 5)
            };
            backend.job_fetch(request).await.expect("claim")
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("task").jobs.iter().map(|job| job.id));
    }
    claimed
}

#[tokio::test]
async fn racing_claims_keep_the_concurrency_limit_per_key() {
    let backend = fresh_backend().await;
    let jobs = (0..40)
        .map(|n| NewJob {
            concurrency_key: Some((n % 4).to_string()),
            ..job("a")
        })
        .collect();
    insert(&backend, jobs).await;
    let limits = FlowLimits {
        concurrency: Some(ConcurrencyLimit {
            max: 2,
            key: Some("n"),
        }),
        rate: None,
    };
    let claimed = race(&backend, limits, 16).await;
    assert_eq!(claimed.len(), 8, "2 for each of 4 keys: {claimed:?}");
    let running: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT concurrency_key, count(*) FROM \"{}\".jobs WHERE state = 'running' GROUP BY 1 ORDER BY 1",
        backend.schema()
    )))
    .fetch_all(backend.pool())
    .await
    .unwrap();
    let expected: Vec<(String, i64)> = (0..4).map(|key| (key.to_string(), 2)).collect();
    assert_eq!(running, expected);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn racing_claims_keep_the_rate_limit() {
    let backend = fresh_backend().await;
    insert(&backend, (0..40).map(|_| job("a")).collect()).await;
    let limits = FlowLimits {
        concurrency: None,
        rate: Some(RateLimit {
            max: 7,
            per: Duration::from_secs(3600),
        }),
    };
    let claimed = race(&backend, limits, 16).await;
    assert_eq!(claimed.len(), 7, "{claimed:?}");
    let batch = backend
        .job_fetch(JobFetchParams {
            flow: Some(limits),
            ..request(&["a"], 5)
        })
        .await
        .unwrap();
    assert!(batch.jobs.is_empty());
    let held_until = batch.held_until.expect("the window is full and jobs wait");
    let hour = chrono::Duration::seconds(3600);
    assert!(held_until > Utc::now() + hour - chrono::Duration::seconds(60));
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_paused_queue_is_skipped_by_every_claim() {
    let backend = fresh_backend().await;
    let ids = insert(&backend, vec![job("a"), job("a")]).await;
    let queue = QueuePauseParams { queue: "default" };
    assert!(backend.queue_pause(queue).await.unwrap());
    let batch = backend.job_fetch(request(&["a"], 10)).await.unwrap();
    assert_eq!((batch.jobs.len(), batch.next_due_at), (0, None));
    let limited = JobFetchParams {
        flow: Some(FlowLimits {
            concurrency: Some(ConcurrencyLimit { max: 5, key: None }),
            rate: None,
        }),
        ..request(&["a"], 10)
    };
    assert!(backend.job_fetch(limited).await.unwrap().jobs.is_empty());
    assert!(backend.queue_resume(queue).await.unwrap());
    let batch = backend.job_fetch(request(&["a"], 10)).await.unwrap();
    let claimed: Vec<JobId> = batch.jobs.iter().map(|job| job.id).collect();
    assert_eq!(claimed, ids);
    drop_schema(&backend).await;
}
