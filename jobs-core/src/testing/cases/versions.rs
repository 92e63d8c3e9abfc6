//! Versioned job kinds (`#[job(version = N, upgrade = f)]`): the version
//! is stored with each job, an older job is upgraded before decoding, a
//! newer one waits for a worker that knows it.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::backend::{InsertMode, JobFetchParams, JobInsertManyParams, NewJob};
use crate::testing::jobs::{UPGRADE_FIXED, record, versioned};
use crate::testing::{Env, wait_for_state};
use crate::{JobId, JobState};

fn stored(version: u32, args: &str, priority: i16) -> NewJob {
    NewJob {
        kind: Cow::Borrowed(versioned::NAME),
        queue: Cow::Borrowed("default"),
        args: args.to_owned(),
        priority,
        max_attempts: 1,
        version,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

async fn insert(env: &Env, jobs: Vec<NewJob>) -> Vec<JobId> {
    env.backend
        .job_insert_many(JobInsertManyParams {
            jobs,
            mode: InsertMode::Try,
        })
        .await
        .unwrap()
}

pub async fn each_job_stores_the_version_of_its_kind(env: Env) {
    let plain = record::enqueue(&env.client, "v1".into()).await.unwrap();
    let current = versioned::enqueue(&env.client, 7, "de".into(), None)
        .await
        .unwrap();
    let old = insert(&env, vec![stored(2, r#"{"user":8,"locale":"fr"}"#, 0)]).await[0];
    let kinds = [record::NAME, versioned::NAME];
    let batch = env
        .backend
        .job_fetch(JobFetchParams {
            queue: "default",
            kinds: &kinds,
            versions: &[1, 3],
            limit: 10,
            worker_id: "conformance",
            lease: Duration::from_secs(30),
            flow: None,
        })
        .await
        .unwrap();
    let version_of = |id| {
        batch
            .jobs
            .iter()
            .find(|job| job.id == id)
            .map(|job| job.version)
    };
    assert_eq!(version_of(plain), Some(1), "the default version is 1");
    assert_eq!(
        version_of(current),
        Some(3),
        "the kind's version at enqueue"
    );
    assert_eq!(version_of(old), Some(2), "as stored");
}

pub async fn an_older_job_is_upgraded_before_it_runs(env: Env) {
    let ids = insert(
        &env,
        vec![
            stored(1, r#"{"user":1}"#, 0),
            stored(2, r#"{"user":2,"locale":"fr"}"#, 0),
        ],
    )
    .await;
    let current = versioned::enqueue(&env.client, 3, "de".into(), Some("hi".into()))
        .await
        .unwrap();
    let worker = env.worker(&[versioned::NAME]).build().unwrap().start();
    for &id in ids.iter().chain([&current]) {
        wait_for_state(&env.client, id, JobState::Completed).await;
    }
    worker.shutdown().await;
    let label = |id| env.probe.runs_of(id)[0].label.clone();
    assert_eq!(label(ids[0]), "1:upgraded-from-1:None", "upgraded from 1");
    assert_eq!(label(ids[1]), "2:fr:None", "upgrade called with 2 kept it");
    assert_eq!(label(current), "3:de:Some(\"hi\")", "not upgraded");
}

pub async fn a_failed_upgrade_is_dead_and_retry_runs_it_after_a_fix(env: Env) {
    let id = insert(&env, vec![stored(1, r#"{"user":-1}"#, 0)]).await[0];
    let worker = env.worker(&[versioned::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    assert_eq!(dead.attempt, 1, "an upgrade error is permanent");
    assert!(
        dead.errors[0]
            .message
            .contains("no locale is known for a negative user (from version 1)"),
        "carries the upgrade's message: {:?}",
        dead.errors
    );
    assert!(env.probe.runs_of(id).is_empty(), "the job body never ran");

    UPGRADE_FIXED.store(true, Ordering::SeqCst);
    assert!(env.client.retry(id).await.unwrap());
    let done = wait_for_state(&env.client, id, JobState::Completed).await;
    worker.shutdown().await;
    assert_eq!(done.attempt, 2);
    assert_eq!(env.probe.runs_of(id)[0].label, "-1:upgraded-from-1:None");
}

pub async fn a_newer_job_stays_available_and_does_not_block_older_ones(env: Env) {
    // the newer job is first in claim order
    let ids = insert(
        &env,
        vec![
            stored(
                4,
                r#"{"user":4,"locale":"x","note":null,"added_in_4":1}"#,
                -5,
            ),
            stored(3, r#"{"user":3,"locale":"de"}"#, 0),
            stored(1, r#"{"user":1}"#, 0),
        ],
    )
    .await;
    let worker = env
        .worker(&[versioned::NAME])
        .queue("default", 1)
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, ids[1], JobState::Completed).await;
    wait_for_state(&env.client, ids[2], JobState::Completed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.shutdown().await;
    let newer = env.client.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(newer.state, JobState::Available, "waits for a newer worker");
    assert_eq!(newer.attempt, 0, "never claimed");
    assert!(env.probe.runs_of(ids[0]).is_empty());

    // a worker that knows version 4 claims it
    let kinds = [versioned::NAME];
    let batch = env
        .backend
        .job_fetch(JobFetchParams {
            queue: "default",
            kinds: &kinds,
            versions: &[4],
            limit: 10,
            worker_id: "conformance-newer",
            lease: Duration::from_secs(30),
            flow: None,
        })
        .await
        .unwrap();
    let claimed: Vec<_> = batch.jobs.iter().map(|job| (job.id, job.version)).collect();
    assert_eq!(claimed, [(ids[0], 4)]);
}

pub async fn a_missing_option_argument_decodes_as_none(env: Env) {
    // stored at the current version by a binary before `note` was added
    let id = insert(&env, vec![stored(3, r#"{"user":5,"locale":"de"}"#, 0)]).await[0];
    let worker = env.worker(&[versioned::NAME]).build().unwrap().start();
    wait_for_state(&env.client, id, JobState::Completed).await;
    worker.shutdown().await;
    assert_eq!(env.probe.runs_of(id)[0].label, "5:de:None");
}
