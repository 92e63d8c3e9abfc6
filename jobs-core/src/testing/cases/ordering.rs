//! Which job runs, when, and where: uniqueness, priority, queues,
//! concurrency limits, delays.

use std::time::Duration;

use chrono::Utc;

use crate::JobState;
use crate::testing::cases::retries::runs_reach;
use crate::testing::jobs::{record, slow, unique_report};
use crate::testing::{Env, wait_for_state};

pub async fn unique_jobs_are_stored_once_while_unfinished(env: Env) {
    let first = unique_report::enqueue(&env.client, 7).await.unwrap();
    let again = unique_report::enqueue(&env.client, 7).await.unwrap();
    let other = unique_report::enqueue(&env.client, 8).await.unwrap();
    assert_eq!(
        first, again,
        "equal arguments while unfinished: the same job"
    );
    assert_ne!(first, other, "other arguments: another job");

    let worker = env.worker(&[unique_report::NAME]).build().unwrap().start();
    wait_for_state(&env.client, first, JobState::Completed).await;
    wait_for_state(&env.client, other, JobState::Completed).await;
    worker.shutdown().await;
    assert_eq!(env.probe.runs().len(), 2);

    let after = unique_report::enqueue(&env.client, 7).await.unwrap();
    assert_ne!(
        after, first,
        "once finished, an equal job may be enqueued again"
    );
}

pub async fn unique_key_from_the_builder(env: Env) {
    let a = record::with("a".into())
        .unique_key("welcome-42")
        .enqueue(&env.client)
        .await
        .unwrap();
    let b = record::with("b".into())
        .unique_key("welcome-42")
        .enqueue(&env.client)
        .await
        .unwrap();
    let c = record::with("c".into())
        .unique_key("welcome-43")
        .enqueue(&env.client)
        .await
        .unwrap();
    let d = record::with("d".into()).enqueue(&env.client).await.unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, d);
    let stored = env.client.job(a).await.unwrap().unwrap();
    assert_eq!(stored.args["label"], "a", "the first job is kept");
}

pub async fn priority_orders_jobs_within_a_queue(env: Env) {
    for (label, priority) in [("p5", 5), ("p-5", -5), ("p0", 0), ("p-5b", -5), ("p3", 3)] {
        record::with(label.into())
            .priority(priority)
            .enqueue(&env.client)
            .await
            .unwrap();
    }
    let worker = env
        .worker(&[record::NAME])
        .queue("default", 1)
        .build()
        .unwrap()
        .start();
    runs_reach(&env, 5).await;
    worker.shutdown().await;
    let order: Vec<String> = env.probe.runs().into_iter().map(|run| run.label).collect();
    assert_eq!(
        order,
        ["p-5", "p-5b", "p0", "p3", "p5"],
        "lower priority first, then enqueue order"
    );
}

pub async fn queues_are_isolated_and_concurrency_is_capped(env: Env) {
    let mut alpha = Vec::new();
    for _ in 0..6 {
        alpha.push(
            slow::with(150)
                .queue("alpha")
                .enqueue(&env.client)
                .await
                .unwrap(),
        );
    }
    let beta = slow::with(1)
        .queue("beta")
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[slow::NAME])
        .queue("alpha", 2)
        .build()
        .unwrap()
        .start();
    for id in &alpha {
        wait_for_state(&env.client, *id, JobState::Completed).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
    assert_eq!(env.probe.max_running(), 2, "concurrency 2 on alpha");
    let untouched = env.client.job(beta).await.unwrap().unwrap();
    assert_eq!(untouched.state, JobState::Available, "beta is not served");
    assert_eq!(untouched.attempt, 0);
}

pub async fn delayed_job_does_not_run_early(env: Env) {
    let id = record::schedule(&env.client, Duration::from_millis(700), "late".into())
        .await
        .unwrap();
    let due = Utc::now() + chrono::Duration::milliseconds(700);
    let waiting = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Scheduled);
    let at = Utc::now() + chrono::Duration::milliseconds(400);
    let at_id = record::schedule(&env.client, at, "at".into())
        .await
        .unwrap();

    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    wait_for_state(&env.client, id, JobState::Completed).await;
    wait_for_state(&env.client, at_id, JobState::Completed).await;
    worker.shutdown().await;
    let runs = env.probe.runs();
    let late = runs.iter().find(|run| run.label == "late").unwrap();
    let early = runs.iter().find(|run| run.label == "at").unwrap();
    assert!(
        late.at >= waiting.scheduled_at,
        "ran at {} before its time {}",
        late.at,
        waiting.scheduled_at
    );
    assert!(late.at + chrono::Duration::milliseconds(50) >= due);
    assert!(early.at >= at);
    assert_eq!(runs[0].label, "at", "the earlier time runs first");
}
