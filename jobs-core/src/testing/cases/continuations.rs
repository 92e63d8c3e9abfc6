//! Continuations (SPEC §10): `.after(id)`, `.after_finished(id)`, the
//! `Awaiting` state and cancellation in cascade.

use std::time::Duration;

use crate::backend::{ParentEnd, broken_message};
use crate::testing::jobs::{fails_permanently, record, slow, typed};
use crate::testing::{Env, wait_for_state};
use crate::{EnqueueError, JobFilter, JobId, JobState};

pub async fn a_continuation_runs_only_after_its_parent_completes(env: Env) {
    let parent = slow::enqueue(&env.client, 300).await.unwrap();
    let child = record::with("child".into())
        .after(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    let waiting = env.client.job(child).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Awaiting);
    assert_eq!(waiting.parents, [parent]);
    let counts = env.client.counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Awaiting), 1);
    let worker = env
        .worker(&[slow::NAME, record::NAME])
        .queue("default", 4)
        .build()
        .unwrap()
        .start();
    let done = wait_for_state(&env.client, child, JobState::Completed).await;
    worker.shutdown().await;
    let parent = env.client.job(parent).await.unwrap().unwrap();
    assert_eq!(parent.state, JobState::Completed);
    let finished = parent.finished_at.expect("the parent finished");
    let runs = env.probe.runs_of(child);
    assert_eq!(runs.len(), 1, "the child ran once");
    assert!(
        runs[0].at >= finished,
        "the child started at {} before its parent finished at {finished}",
        runs[0].at
    );
    assert_eq!(done.attempt, 1);
}

pub async fn after_finished_runs_after_a_dead_parent(env: Env) {
    let parent = fails_permanently::enqueue(&env.client).await.unwrap();
    let child = record::with("cleanup".into())
        .after_finished(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[fails_permanently::NAME, record::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, child, JobState::Completed).await;
    worker.shutdown().await;
    let parent = env.client.job(parent).await.unwrap().unwrap();
    assert_eq!(parent.state, JobState::Dead);
    assert!(env.probe.runs_of(child)[0].at >= parent.finished_at.unwrap());
}

pub async fn a_dead_parent_cancels_its_after_children_in_cascade(env: Env) {
    let parent = fails_permanently::enqueue(&env.client).await.unwrap();
    let child = record::with("child".into())
        .after(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    let grandchild = record::with("grandchild".into())
        .after(child)
        .enqueue(&env.client)
        .await
        .unwrap();
    let cleanup = record::with("cleanup".into())
        .after_finished(child)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[fails_permanently::NAME, record::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, cleanup, JobState::Completed).await;
    worker.shutdown().await;
    let child = env.client.job(child).await.unwrap().unwrap();
    assert_eq!(child.state, JobState::Cancelled);
    assert_eq!(child.attempt, 0, "a cancelled child never ran");
    assert!(child.finished_at.is_some());
    assert_eq!(
        child.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(parent, ParentEnd::Finished(JobState::Dead)).as_str()),
        "the error names the dead parent"
    );
    let grandchild = env.client.job(grandchild).await.unwrap().unwrap();
    assert_eq!(grandchild.state, JobState::Cancelled);
    assert_eq!(
        grandchild.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(child.id, ParentEnd::Finished(JobState::Cancelled)).as_str())
    );
    assert!(env.probe.runs_of(child.id).is_empty());
    assert!(env.probe.runs_of(grandchild.id).is_empty());
}

pub async fn a_child_waits_for_every_parent(env: Env) {
    let first = record::enqueue(&env.client, "first".into()).await.unwrap();
    let second = record::with("second".into())
        .queue("later")
        .enqueue(&env.client)
        .await
        .unwrap();
    let child = typed::with(1, "child".into())
        .after(first)
        .after(second)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[record::NAME, typed::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, first, JobState::Completed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = env.client.job(child).await.unwrap().unwrap();
    assert_eq!(
        waiting.state,
        JobState::Awaiting,
        "one parent of two completed"
    );
    assert_eq!(waiting.parents, [first, second]);
    let other = env
        .worker(&[record::NAME])
        .queue("later", 1)
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, child, JobState::Completed).await;
    other.shutdown().await;
    worker.shutdown().await;
}

pub async fn a_released_child_keeps_its_delay(env: Env) {
    let parent = record::enqueue(&env.client, "parent".into()).await.unwrap();
    let child = typed::with(1, "later".into())
        .delay(Duration::from_secs(3600))
        .after(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[record::NAME, typed::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, parent, JobState::Completed).await;
    let released = wait_for_state(&env.client, child, JobState::Scheduled).await;
    worker.shutdown().await;
    assert!(released.scheduled_at > chrono::Utc::now() + chrono::TimeDelta::minutes(50));
    assert!(env.probe.runs_of(child).is_empty());
}

pub async fn a_finished_parent_is_judged_at_enqueue(env: Env) {
    let completed = record::enqueue(&env.client, "done".into()).await.unwrap();
    let dead = fails_permanently::enqueue(&env.client).await.unwrap();
    let worker = env
        .worker(&[record::NAME, fails_permanently::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, completed, JobState::Completed).await;
    wait_for_state(&env.client, dead, JobState::Dead).await;
    worker.shutdown().await;
    let ready = typed::with(1, "ready".into())
        .after(completed)
        .after_finished(dead)
        .enqueue(&env.client)
        .await
        .unwrap();
    assert_eq!(
        env.client.job(ready).await.unwrap().unwrap().state,
        JobState::Available
    );
    let broken = typed::with(2, "broken".into())
        .after(completed)
        .after(dead)
        .enqueue(&env.client)
        .await
        .unwrap();
    let broken = env.client.job(broken).await.unwrap().unwrap();
    assert_eq!(broken.state, JobState::Cancelled);
    assert!(broken.finished_at.is_some());
    assert_eq!(
        broken.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(dead, ParentEnd::Finished(JobState::Dead)).as_str())
    );
}

pub async fn an_unknown_parent_is_refused_and_nothing_is_stored(env: Env) {
    let parent = record::enqueue(&env.client, "parent".into()).await.unwrap();
    let unknown = JobId::new(i64::MAX - 7);
    let refused = record::with("orphan".into())
        .after(parent)
        .after_finished(unknown)
        .enqueue(&env.client)
        .await;
    assert!(
        matches!(refused, Err(EnqueueError::UnknownParent(id)) if id == unknown),
        "{refused:?}"
    );
    let refused = env
        .client
        .enqueue_many(vec![
            record::with("fine".into()),
            record::with("orphan".into()).after(unknown),
        ])
        .await;
    assert!(matches!(refused, Err(EnqueueError::UnknownParent(id)) if id == unknown));
    let stored = env.client.list(JobFilter::new()).await.unwrap();
    assert_eq!(
        stored.iter().map(|job| job.id).collect::<Vec<_>>(),
        [parent],
        "all or nothing"
    );
}

pub async fn cancelling_or_deleting_a_parent_settles_its_children(env: Env) {
    let cancelled = record::enqueue(&env.client, "a".into()).await.unwrap();
    let needs_cancelled = typed::with(1, "a".into())
        .after(cancelled)
        .enqueue(&env.client)
        .await
        .unwrap();
    assert!(env.client.cancel(cancelled).await.unwrap());
    let info = env.client.job(needs_cancelled).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Cancelled);
    assert_eq!(
        info.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(cancelled, ParentEnd::Finished(JobState::Cancelled)).as_str())
    );

    let deleted = record::enqueue(&env.client, "b".into()).await.unwrap();
    let needs_deleted = typed::with(2, "b".into())
        .after(deleted)
        .enqueue(&env.client)
        .await
        .unwrap();
    let follows_deleted = typed::with(3, "b".into())
        .after_finished(deleted)
        .enqueue(&env.client)
        .await
        .unwrap();
    assert!(env.client.delete(deleted).await.unwrap());
    let info = env.client.job(needs_deleted).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Cancelled);
    assert_eq!(
        info.errors.last().map(|error| error.message.as_str()),
        Some(broken_message(deleted, ParentEnd::Deleted).as_str())
    );
    assert_eq!(
        env.client
            .job(follows_deleted)
            .await
            .unwrap()
            .unwrap()
            .state,
        JobState::Available,
        "nothing left to wait for"
    );

    // an awaiting child can be cancelled or deleted itself; its parent is
    // untouched and finishing it later changes nothing
    let parent = record::enqueue(&env.client, "c".into()).await.unwrap();
    let gone = typed::with(4, "c".into())
        .after(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    let stopped = typed::with(5, "c".into())
        .after(parent)
        .enqueue(&env.client)
        .await
        .unwrap();
    assert!(env.client.delete(gone).await.unwrap());
    assert!(env.client.cancel(stopped).await.unwrap());
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    wait_for_state(&env.client, parent, JobState::Completed).await;
    worker.shutdown().await;
    assert!(env.client.job(gone).await.unwrap().is_none());
    assert_eq!(
        env.client.job(stopped).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
}
