//! Batches (SPEC §10): stored all or nothing, counted exactly, with
//! `on_success` and `on_complete` callbacks.

use crate::backend::{ParentEnd, broken_message};
use crate::testing::jobs::{fails_permanently, record, typed};
use crate::testing::{Env, wait_for_state};
use crate::{Batch, BatchId, EnqueueError, JobFilter, JobId, JobState};

async fn callbacks(env: &Env, batch: BatchId) -> (JobId, JobId) {
    let info = env.client.batch(batch).await.unwrap().expect("stored");
    (
        info.on_success.expect("an on_success job"),
        info.on_complete.expect("an on_complete job"),
    )
}

pub async fn a_batch_runs_on_success_once_after_every_job_completes(env: Env) {
    let batch = Batch::new()
        .job(record::with("one".into()))
        .jobs((2..=3).map(|n| typed::with(n, "member".into())))
        .on_success(record::with("success".into()))
        .on_complete(record::with("complete".into()))
        .enqueue(&env.client)
        .await
        .unwrap();
    let (success, complete) = callbacks(&env, batch).await;
    let members: Vec<JobId> = env
        .client
        .list(JobFilter::new().batch(batch))
        .await
        .unwrap()
        .iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(members.len(), 3, "the callbacks are not members");
    assert!(!members.contains(&success) && !members.contains(&complete));
    for &id in &members {
        assert_eq!(
            env.client.job(id).await.unwrap().unwrap().batch,
            Some(batch)
        );
    }
    let waiting = env.client.job(success).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Awaiting);
    assert_eq!(waiting.parents, members);
    let worker = env
        .worker(&[record::NAME, typed::NAME])
        .queue("default", 4)
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, success, JobState::Completed).await;
    wait_for_state(&env.client, complete, JobState::Completed).await;
    worker.shutdown().await;
    assert_eq!(env.probe.runs_of(success).len(), 1, "on_success ran once");
    assert_eq!(env.probe.runs_of(complete).len(), 1, "on_complete ran once");
    let mut last_member_finish = None;
    for &id in &members {
        let job = env.client.job(id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Completed);
        last_member_finish = last_member_finish.max(job.finished_at);
    }
    let started = env.probe.runs_of(success)[0].at;
    assert!(Some(started) >= last_member_finish);
    let info = env.client.batch(batch).await.unwrap().unwrap();
    assert_eq!(
        (
            info.total,
            info.pending,
            info.completed,
            info.dead,
            info.cancelled
        ),
        (3, 0, 3, 0, 0)
    );
    assert_eq!(info.finished_at, last_member_finish);
}

pub async fn a_dead_job_cancels_on_success_and_on_complete_still_runs(env: Env) {
    let batch = Batch::new()
        .job(record::with("fine".into()))
        .job(fails_permanently::with())
        .on_success(record::with("success".into()))
        .on_complete(record::with("complete".into()))
        .enqueue(&env.client)
        .await
        .unwrap();
    let (success, complete) = callbacks(&env, batch).await;
    let worker = env
        .worker(&[record::NAME, fails_permanently::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, complete, JobState::Completed).await;
    let cancelled = wait_for_state(&env.client, success, JobState::Cancelled).await;
    worker.shutdown().await;
    assert!(env.probe.runs_of(success).is_empty());
    let dead = env
        .client
        .list(JobFilter::new().batch(batch).state(JobState::Dead))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        cancelled.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(dead[0].id, ParentEnd::Finished(JobState::Dead)).as_str())
    );
    let info = env.client.batch(batch).await.unwrap().unwrap();
    assert_eq!(
        (info.total, info.pending, info.completed, info.dead),
        (2, 0, 1, 1)
    );
    assert!(info.finished_at.is_some());
}

pub async fn batch_counts_are_exact_at_every_step(env: Env) {
    let batch = Batch::new()
        .jobs((1..=4).map(|n| typed::with(n, "member".into())))
        .on_complete(record::with("complete".into()))
        .enqueue(&env.client)
        .await
        .unwrap();
    let info = env.client.batch(batch).await.unwrap().unwrap();
    assert_eq!((info.total, info.pending), (4, 4));
    assert_eq!(info.finished_at, None);
    assert_eq!(info.on_success, None);
    let members = env
        .client
        .list(JobFilter::new().batch(batch))
        .await
        .unwrap();
    assert!(env.client.cancel(members[0].id).await.unwrap());
    let info = env.client.batch(batch).await.unwrap().unwrap();
    assert_eq!(
        (info.total, info.pending, info.cancelled, info.completed),
        (4, 3, 1, 0)
    );
    let worker = env.worker(&[typed::NAME]).build().unwrap().start();
    for member in &members[1..] {
        wait_for_state(&env.client, member.id, JobState::Completed).await;
    }
    worker.shutdown().await;
    let info = env.client.batch(batch).await.unwrap().unwrap();
    assert_eq!(
        (info.total, info.pending, info.cancelled, info.completed),
        (4, 0, 1, 3)
    );
    assert!(info.finished_at.is_some());
    let complete = info.on_complete.expect("on_complete");
    assert_eq!(
        env.client.job(complete).await.unwrap().unwrap().state,
        JobState::Available,
        "every member finished: on_complete is released"
    );
    assert!(
        env.client
            .batch(BatchId::new(i64::MAX))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_batch_is_stored_all_or_nothing(env: Env) {
    let unknown = JobId::new(i64::MAX - 3);
    let refused = Batch::new()
        .job(record::with("one".into()))
        .job(record::with("two".into()).after(unknown))
        .on_success(record::with("success".into()))
        .enqueue(&env.client)
        .await;
    assert!(
        matches!(refused, Err(EnqueueError::UnknownParent(id)) if id == unknown),
        "{refused:?}"
    );
    let refused = Batch::new()
        .job(record::with("one".into()))
        .on_complete(record::with("complete".into()).queue("Not A Queue"))
        .enqueue(&env.client)
        .await;
    assert!(matches!(refused, Err(EnqueueError::InvalidQueue { .. })));
    assert!(env.client.list(JobFilter::new()).await.unwrap().is_empty());

    let empty = Batch::new()
        .on_success(record::with("success".into()))
        .enqueue(&env.client)
        .await
        .unwrap();
    let info = env.client.batch(empty).await.unwrap().unwrap();
    assert_eq!((info.total, info.pending), (0, 0));
    let success = info.on_success.expect("on_success");
    assert_eq!(
        env.client.job(success).await.unwrap().unwrap().state,
        JobState::Available,
        "an empty batch has nothing to wait for"
    );
}

pub async fn a_batch_whose_jobs_were_all_pruned_is_forgotten(env: Env) {
    let batch = Batch::new()
        .job(record::with("one".into()))
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[record::NAME])
        .retention_completed(std::time::Duration::from_millis(300))
        .retention_failed(std::time::Duration::from_millis(300))
        .build()
        .unwrap()
        .start();
    let client = env.client.clone();
    crate::testing::eventually("the batch is forgotten with its jobs", move || {
        let client = client.clone();
        async move { client.batch(batch).await.unwrap().is_none() }
    })
    .await;
    worker.shutdown().await;
    assert!(
        env.client
            .list(JobFilter::new().batch(batch))
            .await
            .unwrap()
            .is_empty()
    );
}
