//! The leader's maintenance (rescue, prune) and the admin operations.

use super::*;

#[tokio::test]
async fn rescue_retries_or_buries_jobs_whose_lease_expired() {
    let backend = fresh_backend().await;
    let ids = insert(
        &backend,
        vec![
            NewJob {
                max_attempts: 1,
                ..job("a")
            },
            job("a"),
            job("a"),
        ],
    )
    .await;
    let claimed = backend.job_fetch(request(&["a"], 3)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 3);
    expire_lease(&backend, ids[0]).await;
    expire_lease(&backend, ids[1]).await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.rescued, 2);

    let spent = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(spent.state, JobState::Dead, "its only attempt was lost");
    assert!(spent.finished_at.is_some());
    assert!(spent.errors[0].message.starts_with("worker lost"));
    let retried = backend.job_get(ids[1]).await.unwrap().unwrap();
    assert_eq!(retried.state, JobState::Available, "retryable, due at once");
    assert!(retried.scheduled_at <= Utc::now());
    assert_eq!(
        state_of(&backend, ids[2]).await,
        JobState::Running,
        "a live lease is left alone"
    );

    let again = backend.job_fetch(request(&["a"], 3)).await.unwrap().jobs;
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempt)).collect::<Vec<_>>(),
        [(ids[1], 2)]
    );
    assert_eq!(backend.maintain().await.unwrap().rescued, 0);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn prune_deletes_finished_jobs_past_their_retention() {
    let schema = schema_name();
    let backend = PgBackend::builder()
        .schema(&schema)
        .completed_retention(Duration::from_secs(3600))
        .dead_retention(Duration::from_secs(7 * 86_400))
        .maintenance_batch(2)
        .connect(&common::database_url())
        .await
        .unwrap();
    backend.migrate().await.unwrap();
    let ids = insert(&backend, (0..8).map(|_| job("a")).collect()).await;
    let claimed = backend.job_fetch(request(&["a"], 7)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 7);
    let outcomes = |i: usize| match i {
        0..=3 => Outcome::Completed,
        4 => Outcome::Dead {
            error: attempt_error(1, "x"),
        },
        5 => Outcome::Cancelled {
            error: attempt_error(1, "x"),
        },
        _ => Outcome::Completed,
    };
    backend
        .job_complete_many(
            ids[..7]
                .iter()
                .enumerate()
                .map(|(i, &id)| Completion {
                    id,
                    attempt: 1,
                    outcome: outcomes(i),
                })
                .collect(),
        )
        .await
        .unwrap();
    // ages: 0-3 completed 2 h ago (past), 4 dead and 5 cancelled 2 days ago
    // (kept), 6 completed just now (kept), 7 never ran
    let backdate = |ids: &[JobId], age: &str| {
        let sql = format!(
            "UPDATE \"{schema}\".jobs SET finished_at = now() - interval '{age}' WHERE id = ANY($1)"
        );
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let pool = backend.pool().clone();
        async move {
            sqlx::query(AssertSqlSafe(sql))
                .bind(ids)
                .execute(&pool)
                .await
                .unwrap()
        }
    };
    backdate(&ids[0..4], "2 hours").await;
    backdate(&ids[4..6], "2 days").await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.pruned, 4, "in batches of 2");
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(
            backend.job_get(id).await.unwrap().is_some(),
            i >= 4,
            "job {i}"
        );
    }
    backdate(&ids[4..6], "8 days").await;
    assert_eq!(backend.maintain().await.unwrap().pruned, 2);
    assert!(backend.job_get(ids[4]).await.unwrap().is_none());
    assert!(backend.job_get(ids[6]).await.unwrap().is_some());
    drop_schema(&backend).await;
}

#[tokio::test]
async fn admin_retry_cancel_and_delete() {
    let backend = fresh_backend().await;
    let ids = insert(
        &backend,
        vec![
            NewJob {
                max_attempts: 1,
                ..job("a")
            },
            job("a"),
            job("a"),
        ],
    )
    .await;
    let claimed = backend.job_fetch(request(&["a"], 2)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 2);
    // a running job cannot be deleted; it can be cancelled, and its worker
    // learns of it at the next heartbeat; its late outcome is ignored
    assert!(!backend.job_delete(ids[1]).await.unwrap());
    assert!(backend.job_cancel(ids[1]).await.unwrap());
    assert_eq!(
        backend
            .job_heartbeat(&[(ids[0], 1), (ids[1], 1)], LEASE)
            .await
            .unwrap(),
        [ids[1]]
    );
    backend
        .job_complete_many(vec![Completion {
            id: ids[1],
            attempt: 1,
            outcome: Outcome::Completed,
        }])
        .await
        .unwrap();
    assert_eq!(state_of(&backend, ids[1]).await, JobState::Cancelled);
    assert!(
        !backend.job_cancel(ids[1]).await.unwrap(),
        "already finished"
    );

    // a dead job with its attempts spent gets one more
    backend
        .job_complete_many(vec![Completion {
            id: ids[0],
            attempt: 1,
            outcome: Outcome::Dead {
                error: attempt_error(1, "x"),
            },
        }])
        .await
        .unwrap();
    assert!(backend.job_retry(ids[0]).await.unwrap());
    let retried = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (retried.state, retried.max_attempts, retried.finished_at),
        (JobState::Available, 2, None)
    );
    assert!(
        !backend.job_retry(ids[0]).await.unwrap(),
        "already available"
    );
    assert!(!backend.job_retry(JobId::new(i64::MAX)).await.unwrap());

    assert!(backend.job_delete(ids[2]).await.unwrap());
    assert!(!backend.job_delete(ids[2]).await.unwrap());
    assert!(backend.job_get(ids[2]).await.unwrap().is_none());

    let filter = jobs_core::JobFilter::new().state(JobState::Cancelled);
    let cancelled = backend.job_list(&filter).await.unwrap();
    assert_eq!(cancelled.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[1]]);
    drop_schema(&backend).await;
}
