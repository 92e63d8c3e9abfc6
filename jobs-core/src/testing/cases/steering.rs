//! What a job's `JobError` or the client asks for: permanent, snooze,
//! cancel; and the failures a job does not choose: timeout, panic.

use std::time::Duration;

use crate::JobState;
use crate::testing::cases::retries::runs_reach;
use crate::testing::jobs::{
    cancels_itself, fails_permanently, panics, record, reports_progress, snoozes_once, times_out,
    waits_for_cancel,
};
use crate::testing::{Env, eventually, wait_for_state};

pub async fn permanent_error_goes_dead_at_once(env: Env) {
    let id = fails_permanently::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[fails_permanently::NAME])
        .build()
        .unwrap()
        .start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
    assert_eq!(
        dead.attempt, 1,
        "retries = 5 must not be used after a permanent error"
    );
    assert_eq!(env.probe.runs_of(id).len(), 1);
    assert_eq!(dead.errors.len(), 1);
    assert_eq!(
        dead.errors[0].message,
        "invalid input: a retry will not help"
    );
}

pub async fn snooze_runs_again_without_using_an_attempt(env: Env) {
    // retries = 0: a snooze that used up an attempt would end Dead
    let id = snoozes_once::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[snoozes_once::NAME]).build().unwrap().start();
    let done = wait_for_state(&env.client, id, JobState::Completed).await;
    worker.shutdown().await;
    let runs = env.probe.runs_of(id);
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 1],
        "both runs are attempt 1"
    );
    assert!(
        runs[1].at - runs[0].at >= chrono::Duration::milliseconds(95),
        "snoozed for 100 ms"
    );
    assert_eq!(done.attempt, 1);
    assert!(
        done.errors.is_empty(),
        "a snooze is not an error: {:?}",
        done.errors
    );
}

pub async fn job_error_cancel_ends_cancelled(env: Env) {
    let id = cancels_itself::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[cancels_itself::NAME]).build().unwrap().start();
    let cancelled = wait_for_state(&env.client, id, JobState::Cancelled).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
    assert_eq!(env.probe.runs_of(id).len(), 1);
    assert!(cancelled.finished_at.is_some());
    assert_eq!(
        cancelled.errors.last().map(|e| e.message.as_str()),
        Some("no longer needed")
    );
}

pub async fn client_cancel_of_a_waiting_job_prevents_its_run(env: Env) {
    let id = record::schedule(&env.client, Duration::from_millis(300), "never".into())
        .await
        .unwrap();
    assert!(env.client.cancel(id).await.unwrap());
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    tokio::time::sleep(Duration::from_millis(600)).await;
    worker.shutdown().await;
    assert!(env.probe.runs().is_empty());
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Cancelled);
    assert!(
        !env.client.cancel(id).await.unwrap(),
        "cancelling a finished job changes nothing"
    );
}

pub async fn client_cancel_of_a_running_job_fires_its_cancellation(env: Env) {
    let id = waits_for_cancel::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[waits_for_cancel::NAME])
        .build()
        .unwrap()
        .start();
    runs_reach(&env, 1).await;
    assert!(env.client.cancel(id).await.unwrap());
    // the run learns of it at its next heartbeat (a third of the 900 ms lease)
    runs_reach(&env, 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    worker.shutdown().await;
    assert_eq!(env.probe.runs()[1].label, "saw cancellation");
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(
        info.state,
        JobState::Cancelled,
        "the late failure must not overwrite the cancel"
    );
}

pub async fn progress_is_visible_while_running(env: Env) {
    let id = reports_progress::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[reports_progress::NAME])
        .build()
        .unwrap()
        .start();
    let client = env.client.clone();
    // written at the next heartbeat (a third of the 900 ms lease)
    eventually("progress 0.5 in the store", move || {
        let client = client.clone();
        async move {
            client
                .job(id)
                .await
                .unwrap()
                .is_some_and(|job| job.progress == Some(0.5))
        }
    })
    .await;
    let running = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(running.state, JobState::Running);
    assert!(env.client.cancel(id).await.unwrap());
    worker.shutdown().await;
}

pub async fn timeout_is_a_failed_attempt(env: Env) {
    let id = times_out::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[times_out::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    worker.shutdown().await;
    assert_eq!(dead.attempt, 1);
    assert_eq!(dead.errors.len(), 1);
    assert!(
        dead.errors[0].message.contains("timed out"),
        "{:?}",
        dead.errors
    );
}

pub async fn panic_is_a_failed_attempt_and_the_worker_lives(env: Env) {
    let id = panics::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[panics::NAME, record::NAME])
        .build()
        .unwrap()
        .start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    assert_eq!(dead.attempt, 2, "retries = 1");
    assert_eq!(dead.errors.len(), 2);
    assert!(
        dead.errors[0].message.contains("kaboom on attempt 1"),
        "{:?}",
        dead.errors
    );
    assert!(
        dead.errors[1].message.contains("kaboom on attempt 2"),
        "{:?}",
        dead.errors
    );
    // the same worker still runs jobs
    let after = record::enqueue(&env.client, "after the panic".into())
        .await
        .unwrap();
    wait_for_state(&env.client, after, JobState::Completed).await;
    worker.shutdown().await;
    let probe = env.probe.clone();
    eventually("the run after the panic", move || {
        let probe = probe.clone();
        async move {
            probe
                .runs()
                .iter()
                .any(|run| run.label == "after the panic")
        }
    })
    .await;
}
