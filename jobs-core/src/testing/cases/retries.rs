//! Attempts, retry delays and the error history.

use std::time::Duration;

use crate::JobState;
use crate::testing::jobs::{
    always_fails, fails_with_explicit_delays, fails_with_exponential_backoff,
};
use crate::testing::{Env, eventually, wait_for_state};

pub async fn retries_give_exactly_retries_plus_one_attempts_then_dead(env: Env) {
    let id = always_fails::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[always_fails::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    // give a wrongly scheduled extra attempt the chance to show up
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
    assert_eq!(dead.attempt, 3, "retries = 2 gives 3 attempts");
    assert_eq!(dead.max_attempts, 3);
    assert_eq!(env.probe.runs_of(id).len(), 3);
    assert!(dead.finished_at.is_some());
    assert_eq!(
        env.client.job(id).await.unwrap().unwrap().state,
        JobState::Dead
    );
}

pub async fn failed_attempts_are_kept_in_history(env: Env) {
    let id = always_fails::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[always_fails::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    worker.shutdown().await;
    let attempts: Vec<u32> = dead.errors.iter().map(|e| e.attempt).collect();
    assert_eq!(attempts, [1, 2, 3]);
    for error in &dead.errors {
        assert_eq!(error.message, format!("boom on attempt {}", error.attempt));
    }
    assert!(dead.errors.windows(2).all(|pair| pair[0].at <= pair[1].at));
}

/// The first retry of `backoff_base = "4s"` is due 4 s ± 10 % after the failure.
pub async fn exponential_backoff_delays_the_retry(env: Env) {
    let id = fails_with_exponential_backoff::enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[fails_with_exponential_backoff::NAME])
        .build()
        .unwrap()
        .start();
    let waiting = wait_for_state(&env.client, id, JobState::Retryable).await;
    worker.shutdown().await;
    assert_eq!(waiting.attempt, 1);
    let failed_at = waiting.errors[0].at;
    let delay = (waiting.scheduled_at - failed_at).to_std().unwrap();
    assert!(
        (Duration::from_millis(3_590)..=Duration::from_millis(4_410)).contains(&delay),
        "first retry after {delay:?}, expected 4 s ± 10 %"
    );
    assert_eq!(
        env.probe.runs_of(id).len(),
        1,
        "the retry must not run early"
    );
}

/// `delays = [5, 9]`: the first retry is due exactly 5 s after the failure.
pub async fn explicit_delays_delay_the_retry(env: Env) {
    let id = fails_with_explicit_delays::enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[fails_with_explicit_delays::NAME])
        .build()
        .unwrap()
        .start();
    let waiting = wait_for_state(&env.client, id, JobState::Retryable).await;
    worker.shutdown().await;
    let delay = (waiting.scheduled_at - waiting.errors[0].at)
        .to_std()
        .unwrap();
    assert!(
        (Duration::from_millis(4_990)..=Duration::from_millis(5_010)).contains(&delay),
        "first retry after {delay:?}, expected 5 s"
    );
}

/// Waits until the probe saw `n` runs.
pub(crate) async fn runs_reach(env: &Env, n: usize) {
    let probe = env.probe.clone();
    eventually(&format!("{n} runs"), move || {
        let probe = probe.clone();
        async move { probe.runs().len() >= n }
    })
    .await;
}
