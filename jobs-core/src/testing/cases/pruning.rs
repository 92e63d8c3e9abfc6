//! Pruning: the leader deletes finished jobs once their retention is over,
//! `Completed` and failed ones each by their own period.

use std::time::Duration;

use chrono::Utc;

use crate::JobState;
use crate::backend::{JobPruneParams, before};
use crate::testing::jobs::{fails_permanently, record};
use crate::testing::{Env, eventually, wait_for_state};

pub async fn finished_jobs_are_pruned_after_their_retention(env: Env) {
    let completed = record::enqueue(&env.client, "done".into()).await.unwrap();
    let dead = fails_permanently::enqueue(&env.client).await.unwrap();
    let waiting = record::schedule(&env.client, Duration::from_secs(3600), "later".into())
        .await
        .unwrap();
    let worker = env
        .worker(&[record::NAME, fails_permanently::NAME])
        .retention_completed(Duration::from_millis(300))
        .retention_failed(Duration::from_secs(3600))
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, completed, JobState::Completed).await;
    wait_for_state(&env.client, dead, JobState::Dead).await;
    let client = env.client.clone();
    eventually("the completed job is pruned", move || {
        let client = client.clone();
        async move { client.job(completed).await.unwrap().is_none() }
    })
    .await;
    worker.shutdown().await;
    let dead = env.client.job(dead).await.unwrap();
    assert!(
        dead.is_some_and(|job| job.state == JobState::Dead),
        "a dead job is kept for its own, longer retention"
    );
    let waiting = env.client.job(waiting).await.unwrap();
    assert!(waiting.is_some(), "unfinished jobs are never pruned");
}

pub async fn pruning_takes_only_what_is_past_the_cutoffs(env: Env) {
    let worker = env
        .worker(&[record::NAME, fails_permanently::NAME])
        .build()
        .unwrap()
        .start();
    let mut completed = Vec::new();
    for n in 0..3 {
        completed.push(record::enqueue(&env.client, n.to_string()).await.unwrap());
    }
    let dead = fails_permanently::enqueue(&env.client).await.unwrap();
    for &id in &completed {
        wait_for_state(&env.client, id, JobState::Completed).await;
    }
    wait_for_state(&env.client, dead, JobState::Dead).await;
    worker.shutdown().await;

    let now = Utc::now();
    let long_ago = before(now, Duration::from_secs(3600));
    let after_all = now + chrono::Duration::seconds(5);
    let prune = |completed_before, failed_before, limit| JobPruneParams {
        completed_before,
        failed_before,
        limit,
    };
    let backend = &env.backend;
    assert_eq!(
        backend
            .job_prune(prune(long_ago, long_ago, 10))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        backend
            .job_prune(prune(after_all, long_ago, 2))
            .await
            .unwrap(),
        2,
        "at most the limit"
    );
    assert_eq!(
        backend
            .job_prune(prune(after_all, long_ago, 10))
            .await
            .unwrap(),
        1
    );
    assert!(
        env.client.job(dead).await.unwrap().is_some(),
        "failed jobs have their own cutoff"
    );
    assert_eq!(
        backend
            .job_prune(prune(long_ago, after_all, 10))
            .await
            .unwrap(),
        1
    );
    for id in completed.into_iter().chain([dead]) {
        assert!(
            env.client.job(id).await.unwrap().is_none(),
            "job {id} pruned"
        );
    }
    let counts = env.client.counts().await.unwrap();
    assert_eq!(
        (
            counts.get("default", JobState::Completed),
            counts.get("default", JobState::Dead)
        ),
        (0, 0),
        "counts forget pruned jobs"
    );
}
