//! Bad input loses nothing: undecodable arguments, unknown kinds, payloads
//! over the limit, invalid queue names.

use std::borrow::Cow;
use std::time::Duration;

use crate::backend::{InsertMode, JobInsertManyParams, NewJob};
use chrono::Utc;

use crate::testing::jobs::{big_payload, fails_with_a_huge_delay, record, snoozes_forever, typed};
use crate::testing::{Env, wait_for_state};
use crate::{EnqueueError, JobState};

fn raw_job(kind: &'static str, args: &str) -> NewJob {
    NewJob {
        kind: Cow::Borrowed(kind),
        queue: Cow::Borrowed("default"),
        args: args.to_owned(),
        priority: 0,
        max_attempts: 3,
        version: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

pub async fn undecodable_arguments_go_dead_and_can_be_retried(env: Env) {
    // as if `typed` changed its argument types after this job was stored
    let ids = env
        .backend
        .job_insert_many(JobInsertManyParams {
            jobs: vec![raw_job(typed::NAME, r#"{"count":"seven","label":"x"}"#)],
            mode: InsertMode::Try,
        })
        .await
        .unwrap();
    let id = ids[0];
    let worker = env.worker(&[typed::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    assert_eq!(
        dead.attempt, 1,
        "decoding will not improve on retry: dead at once"
    );
    assert!(
        dead.errors[0].message.contains("no longer decode"),
        "{:?}",
        dead.errors
    );
    assert!(
        dead.errors[0].message.contains("count"),
        "names the field: {:?}",
        dead.errors
    );
    assert!(env.probe.runs().is_empty());

    assert!(
        env.client.retry(id).await.unwrap(),
        "a dead job can be retried"
    );
    let again = wait_for_state(&env.client, id, JobState::Dead).await;
    worker.shutdown().await;
    assert_eq!(again.attempt, 2, "the retry ran it once more");
    assert_eq!(again.errors.len(), 2);
    assert_eq!(
        dead.args, again.args,
        "the stored arguments are kept for a fix"
    );
}

pub async fn unknown_kind_stays_available(env: Env) {
    let ids = env
        .backend
        .job_insert_many(JobInsertManyParams {
            jobs: vec![raw_job("conformance_no_such_job", "{}")],
            mode: InsertMode::Try,
        })
        .await
        .unwrap();
    let unknown = ids[0];
    let known = record::enqueue(&env.client, "known".into()).await.unwrap();
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    wait_for_state(&env.client, known, JobState::Completed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.shutdown().await;
    let info = env.client.job(unknown).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Available);
    assert_eq!(info.attempt, 0);
    let counts = env.client.counts().await.unwrap();
    assert_eq!(
        counts.get("default", JobState::Available),
        1,
        "visible in counts: {counts:?}"
    );
}

pub async fn oversized_payload_and_bad_queue_are_rejected(env: Env) {
    let big = "x".repeat(1024 * 1024 + 1);
    match big_payload::enqueue(&env.client, big).await {
        Err(EnqueueError::PayloadTooLarge { kind, size, limit }) => {
            assert_eq!(kind, big_payload::NAME);
            assert!(size > limit);
            assert_eq!(limit, crate::DEFAULT_MAX_PAYLOAD);
        }
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    }
    let small_limit = env.client.clone().max_payload(16);
    assert!(matches!(
        big_payload::enqueue(&small_limit, "a".repeat(32)).await,
        Err(EnqueueError::PayloadTooLarge { .. })
    ));
    match record::with("x".into())
        .queue("Not A Queue")
        .enqueue(&env.client)
        .await
    {
        Err(EnqueueError::InvalidQueue { queue, .. }) => assert_eq!(queue, "Not A Queue"),
        other => panic!("expected InvalidQueue, got {other:?}"),
    }
    let counts = env.client.counts().await.unwrap();
    assert_eq!(counts.total(JobState::Available), 0, "nothing was stored");
}

pub async fn a_time_past_the_clock_saturates_and_the_slot_lives(env: Env) {
    let snoozed = snoozes_forever::enqueue(&env.client).await.unwrap();
    let delayed = fails_with_a_huge_delay::enqueue(&env.client).await.unwrap();
    // one slot: if a run's end killed it, nothing after would run
    let worker = env
        .worker(&[
            snoozes_forever::NAME,
            fails_with_a_huge_delay::NAME,
            record::NAME,
        ])
        .queue("default", 1)
        .build()
        .unwrap()
        .start();
    let snoozed = wait_for_state(&env.client, snoozed, JobState::Scheduled).await;
    let delayed = wait_for_state(&env.client, delayed, JobState::Retryable).await;
    let after = record::enqueue(&env.client, "after".into()).await.unwrap();
    wait_for_state(&env.client, after, JobState::Completed).await;
    worker.shutdown().await;

    let far = Utc::now() + chrono::Duration::days(365 * 7_000);
    assert!(
        snoozed.scheduled_at > far,
        "snoozed until {}",
        snoozed.scheduled_at
    );
    assert_eq!(snoozed.attempt, 0, "a snooze is not an attempt");
    assert!(
        delayed.scheduled_at > far,
        "retried at {}",
        delayed.scheduled_at
    );
    assert_eq!(delayed.errors.len(), 1);
    let running = env
        .client
        .list(crate::JobFilter::new().state(JobState::Running))
        .await
        .unwrap();
    assert!(running.is_empty(), "nothing stranded: {running:#?}");
}
