//! Graceful shutdown: running jobs finish within the timeout; the rest are
//! cancelled and returned to their queue with the attempt not counted.

use std::time::Duration;

use crate::testing::cases::retries::runs_reach;
use crate::testing::jobs::{ignores_cancel, slow, waits_for_cancel};
use crate::testing::{Env, wait_for_state};
use crate::{JobFilter, JobState};

pub async fn shutdown_leaves_nothing_running(env: Env) {
    let stubborn = ignores_cancel::enqueue(&env.client).await.unwrap();
    let polite = waits_for_cancel::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[ignores_cancel::NAME, waits_for_cancel::NAME])
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .start();
    runs_reach(&env, 2).await;
    worker.shutdown().await;

    let running = env
        .client
        .list(JobFilter::new().state(JobState::Running))
        .await
        .unwrap();
    assert!(
        running.is_empty(),
        "still running after shutdown: {running:#?}"
    );
    for id in [stubborn, polite] {
        let info = env.client.job(id).await.unwrap().unwrap();
        assert_eq!(
            info.state,
            JobState::Available,
            "job {id} returns to its queue"
        );
        assert_eq!(info.attempt, 0, "the interrupted attempt is not counted");
        assert!(
            info.errors.is_empty(),
            "an interruption is not a failure: {:?}",
            info.errors
        );
    }
    let saw: Vec<String> = env
        .probe
        .runs_of(polite)
        .into_iter()
        .map(|run| run.label)
        .collect();
    assert_eq!(
        saw,
        ["started", "saw cancellation"],
        "the cancellation fired after the timeout"
    );
}

pub async fn shutdown_lets_short_jobs_finish(env: Env) {
    let id = slow::enqueue(&env.client, 400).await.unwrap();
    let worker = env
        .worker(&[slow::NAME])
        .shutdown_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .start();
    runs_reach(&env, 1).await;
    let started = tokio::time::Instant::now();
    worker.shutdown().await;
    let info = wait_for_state(&env.client, id, JobState::Completed).await;
    assert_eq!(info.attempt, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited for the job, not the timeout"
    );
}

pub async fn shutdown_returns_within_its_timeout(env: Env) {
    let id = ignores_cancel::enqueue(&env.client).await.unwrap();
    let budget = Duration::from_secs(1);
    let worker = env
        .worker(&[ignores_cancel::NAME])
        .shutdown_timeout(budget)
        .build()
        .unwrap()
        .start();
    runs_reach(&env, 1).await;
    let started = tokio::time::Instant::now();
    worker.shutdown().await;
    let took = started.elapsed();
    assert!(
        took <= budget + Duration::from_millis(200),
        "the timeout is the whole budget; shutdown took {took:?}"
    );
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(
        (info.state, info.attempt),
        (JobState::Available, 0),
        "the outcome was written before shutdown returned"
    );
}
