//! The client's administration: enqueue_many, list, counts, delete, retry.

use crate::testing::jobs::{always_fails, record, typed};
use crate::testing::{Env, wait_for_state};
use crate::{JobFilter, JobState};

pub async fn enqueue_many_stores_every_kind_in_order(env: Env) {
    let ids = env
        .client
        .enqueue_many(vec![
            record::with("one".into()),
            typed::with(2, "two".into()).queue("other"),
            record::with("three".into()).priority(-1),
        ])
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "ids grow in order: {ids:?}"
    );
    let second = env.client.job(ids[1]).await.unwrap().unwrap();
    assert_eq!(second.kind, typed::NAME);
    assert_eq!(second.queue, "other");
    assert_eq!(second.args, serde_json::json!({"count": 2, "label": "two"}));
    let third = env.client.job(ids[2]).await.unwrap().unwrap();
    assert_eq!(third.priority, -1);
    assert!(
        env.client
            .enqueue_many(Vec::new())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn list_filters_and_pages(env: Env) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(record::enqueue(&env.client, format!("r{n}")).await.unwrap());
    }
    let other = typed::with(1, "t".into())
        .queue("other")
        .enqueue(&env.client)
        .await
        .unwrap();
    let all = env.client.list(JobFilter::new()).await.unwrap();
    assert_eq!(
        all.iter().map(|job| job.id).collect::<Vec<_>>(),
        [ids.clone(), vec![other]].concat()
    );
    let page = env
        .client
        .list(JobFilter::new().kind(record::NAME).offset(1).limit(2))
        .await
        .unwrap();
    assert_eq!(page.iter().map(|job| job.id).collect::<Vec<_>>(), ids[1..3]);
    let in_other = env
        .client
        .list(JobFilter::new().queue("other"))
        .await
        .unwrap();
    assert_eq!(in_other.len(), 1);
    assert_eq!(in_other[0].id, other);
    let available = env
        .client
        .list(JobFilter::new().state(JobState::Available))
        .await
        .unwrap();
    assert_eq!(available.len(), 6);
    let dead = env
        .client
        .list(JobFilter::new().state(JobState::Dead))
        .await
        .unwrap();
    assert!(dead.is_empty());
}

pub async fn counts_by_queue_and_state(env: Env) {
    let first = record::enqueue(&env.client, "a".into()).await.unwrap();
    record::enqueue(&env.client, "b".into()).await.unwrap();
    record::with("c".into())
        .queue("other")
        .enqueue(&env.client)
        .await
        .unwrap();
    record::schedule(
        &env.client,
        std::time::Duration::from_secs(3600),
        "later".into(),
    )
    .await
    .unwrap();
    let counts = env.client.counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Available), 2);
    assert_eq!(counts.get("default", JobState::Scheduled), 1);
    assert_eq!(counts.get("other", JobState::Available), 1);
    assert_eq!(counts.get("missing", JobState::Available), 0);
    assert_eq!(counts.total(JobState::Available), 3);
    let oldest = counts["default"]
        .oldest_available_at
        .expect("the oldest available job's due time");
    let first = env.client.job(first).await.unwrap().unwrap();
    assert_eq!(
        oldest, first.scheduled_at,
        "the first job enqueued is the oldest"
    );
    assert_eq!(counts["missing"].oldest_available_at, None);
}

pub async fn delete_removes_a_finished_job(env: Env) {
    let id = record::enqueue(&env.client, "gone".into()).await.unwrap();
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    wait_for_state(&env.client, id, JobState::Completed).await;
    worker.shutdown().await;
    assert!(env.client.delete(id).await.unwrap());
    assert!(env.client.job(id).await.unwrap().is_none());
    assert!(
        !env.client.delete(id).await.unwrap(),
        "deleting twice finds nothing"
    );
    let waiting = record::enqueue(&env.client, "waiting".into())
        .await
        .unwrap();
    assert!(
        env.client.delete(waiting).await.unwrap(),
        "a job not running can be deleted"
    );
    assert!(env.client.job(waiting).await.unwrap().is_none());
}

pub async fn retry_runs_a_dead_job_again(env: Env) {
    let id = always_fails::enqueue(&env.client).await.unwrap();
    let worker = env.worker(&[always_fails::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    assert_eq!(dead.attempt, 3);
    assert!(env.client.retry(id).await.unwrap());
    let again = wait_for_state(&env.client, id, JobState::Dead).await;
    worker.shutdown().await;
    assert_eq!(again.attempt, 4, "one more attempt was allowed");
    assert_eq!(again.errors.len(), 4, "history kept across the retry");
    assert_eq!(env.probe.runs_of(id).len(), 4);
    assert!(
        !env.client.retry(crate::JobId::new(i64::MAX)).await.unwrap(),
        "no such job"
    );
}

pub async fn finished_jobs_are_counted_per_minute(env: Env) {
    let since = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    assert!(
        env.client
            .finished_per_minute(since)
            .await
            .unwrap()
            .is_empty()
    );
    let done = [
        record::enqueue(&env.client, "a".into()).await.unwrap(),
        record::enqueue(&env.client, "b".into()).await.unwrap(),
    ];
    let dead = crate::testing::jobs::fails_permanently::enqueue(&env.client)
        .await
        .unwrap();
    let cancelled = record::schedule(&env.client, std::time::Duration::from_secs(600), "c".into())
        .await
        .unwrap();
    assert!(env.client.cancel(cancelled).await.unwrap());
    let worker = env
        .worker(&[record::NAME, crate::testing::jobs::fails_permanently::NAME])
        .build()
        .unwrap()
        .start();
    for id in done {
        wait_for_state(&env.client, id, JobState::Completed).await;
    }
    wait_for_state(&env.client, dead, JobState::Dead).await;
    worker.shutdown().await;
    let minutes = env.client.finished_per_minute(since).await.unwrap();
    let completed: u64 = minutes.iter().map(|minute| minute.completed).sum();
    let failed: u64 = minutes.iter().map(|minute| minute.failed).sum();
    assert_eq!((completed, failed), (2, 2), "{minutes:?}");
    assert!(
        minutes
            .windows(2)
            .all(|pair| pair[0].minute < pair[1].minute)
    );
    assert!(
        minutes
            .iter()
            .all(|minute| minute.minute.timestamp() % 60 == 0)
    );
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    assert!(
        env.client
            .finished_per_minute(later)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A job in each of the eight states: listing by state finds exactly the
/// jobs counted in it, and the unfinished counts are the counts without
/// the finished states.
pub async fn every_state_lists_and_counts_alike(env: Env) {
    use crate::testing::jobs::{fails_permanently, fails_with_explicit_delays, waits_for_cancel};
    use std::collections::BTreeMap;
    use std::time::Duration;

    let mut expected: BTreeMap<JobState, Vec<crate::JobId>> = BTreeMap::new();
    let mut expect = |state, id| expected.entry(state).or_default().push(id);
    // run by a worker: one completes, one fails for good, one fails and
    // waits 5 s for its next attempt, one runs until cancelled
    let completed = record::enqueue(&env.client, "done".into()).await.unwrap();
    let dead = fails_permanently::enqueue(&env.client).await.unwrap();
    let retryable = fails_with_explicit_delays::enqueue(&env.client)
        .await
        .unwrap();
    let running = waits_for_cancel::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[
            record::NAME,
            fails_permanently::NAME,
            fails_with_explicit_delays::NAME,
            waits_for_cancel::NAME,
        ])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, completed, JobState::Completed).await;
    wait_for_state(&env.client, dead, JobState::Dead).await;
    wait_for_state(&env.client, retryable, JobState::Retryable).await;
    wait_for_state(&env.client, running, JobState::Running).await;
    expect(JobState::Completed, completed);
    expect(JobState::Dead, dead);
    expect(JobState::Retryable, retryable);
    expect(JobState::Running, running);
    // in a queue no worker serves: waiting, delayed, cancelled, awaiting
    let idle = |label: &str| typed::with(1, label.into()).queue("idle");
    let available = idle("now").enqueue(&env.client).await.unwrap();
    let scheduled = idle("later")
        .delay(Duration::from_secs(3600))
        .enqueue(&env.client)
        .await
        .unwrap();
    let cancelled = idle("never").enqueue(&env.client).await.unwrap();
    assert!(env.client.cancel(cancelled).await.unwrap());
    let awaiting = idle("after")
        .after(available)
        .enqueue(&env.client)
        .await
        .unwrap();
    expect(JobState::Available, available);
    expect(JobState::Scheduled, scheduled);
    expect(JobState::Cancelled, cancelled);
    expect(JobState::Awaiting, awaiting);

    let counts = env.client.counts().await.unwrap();
    for state in JobState::ALL {
        let listed: Vec<_> = env
            .client
            .list(JobFilter::new().state(state))
            .await
            .unwrap()
            .iter()
            .map(|job| job.id)
            .collect();
        let want = expected.get(&state).cloned().unwrap_or_default();
        assert_eq!(listed, want, "the jobs listed as {state}");
        assert_eq!(counts.total(state), want.len() as u64, "the {state} count");
    }
    let unfinished = env.client.unfinished_counts().await.unwrap();
    assert_eq!(unfinished, counts.clone().unfinished());
    assert_eq!(unfinished["default"].running, 1);
    assert_eq!(
        unfinished["default"].completed, 0,
        "finished states count zero"
    );
    assert_eq!(unfinished["idle"].awaiting, 1);
    assert_eq!(
        unfinished["idle"].oldest_available_at,
        counts["idle"].oldest_available_at
    );
    assert!(unfinished["idle"].oldest_available_at.is_some());

    assert!(env.client.cancel(running).await.unwrap());
    worker.shutdown().await;
}
