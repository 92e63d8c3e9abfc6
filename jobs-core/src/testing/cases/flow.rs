//! Flow control (SPEC §11): concurrency limits, per key and per kind,
//! across workers; rate limits in every window; held-back jobs use no
//! attempt and hold back no other kind; paused queues.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::testing::jobs::{no_overlap, one_at_a_time, one_per_account, rate_limited, record};
use crate::testing::{Env, eventually, wait_for_state};
use crate::{Error, JobFilter, JobId, JobState, WorkerHandle};

/// `rate_limited`'s limit: 5 starts in any second.
const RATE: usize = 5;
const WINDOW: Duration = Duration::from_secs(1);
/// What a start's record may lag behind its claim (the claim counts as the
/// start; the job body records it a moment later).
const START_SLACK: Duration = Duration::from_millis(100);

/// Starts `count` workers running `kinds`.
fn workers(env: &Env, kinds: &[&str], count: usize) -> Vec<WorkerHandle> {
    (0..count)
        .map(|_| env.worker(kinds).build().unwrap().start())
        .collect()
}

async fn shutdown(workers: Vec<WorkerHandle>) {
    for worker in workers {
        worker.shutdown().await;
    }
}

/// Waits until every job in `ids` is `Completed`.
async fn wait_completed(env: &Env, ids: &[JobId]) {
    for &id in ids {
        wait_for_state(&env.client, id, JobState::Completed).await;
    }
}

/// Every job in `ids` used exactly one attempt: being held back used none.
async fn one_attempt_each(env: &Env, ids: &[JobId]) {
    for &id in ids {
        let job = env.client.job(id).await.unwrap().expect("stored");
        assert_eq!(
            job.attempt, 1,
            "held back without using an attempt: {job:#?}"
        );
    }
}

pub async fn concurrency_one_never_overlaps_across_workers(env: Env) {
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(one_at_a_time::enqueue(&env.client, 80).await.unwrap());
    }
    let fleet = workers(&env, &[one_at_a_time::NAME], 3);
    wait_completed(&env, &ids).await;
    shutdown(fleet).await;
    assert_eq!(env.probe.runs().len(), ids.len());
    assert_eq!(
        env.probe.max_running_of("one_at_a_time"),
        1,
        "`concurrency = 1` ran two at once"
    );
    one_attempt_each(&env, &ids).await;
}

pub async fn a_concurrency_key_limits_each_value_and_lets_others_run(env: Env) {
    let mut ids = Vec::new();
    for _ in 0..4 {
        for account in ["a", "b"] {
            let id = one_per_account::enqueue(&env.client, account.to_owned(), 120)
                .await
                .unwrap();
            ids.push(id);
        }
    }
    let fleet = workers(&env, &[one_per_account::NAME], 3);
    wait_completed(&env, &ids).await;
    shutdown(fleet).await;
    assert_eq!(
        env.probe.max_running_of("a"),
        1,
        "two runs of key a at once"
    );
    assert_eq!(
        env.probe.max_running_of("b"),
        1,
        "two runs of key b at once"
    );
    assert_eq!(
        env.probe.max_keys_running(),
        2,
        "the limit is per key: a and b should have run at the same time"
    );
    one_attempt_each(&env, &ids).await;
}

/// How many of the sorted `starts` lie in the window starting at each
/// start, at most; windows are shortened by [`START_SLACK`].
fn most_starts_in_a_window(starts: &[DateTime<Utc>]) -> usize {
    let window = chrono::Duration::from_std(WINDOW - START_SLACK).unwrap();
    starts
        .iter()
        .map(|&from| {
            starts
                .iter()
                .filter(|&&at| at >= from && at < from + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

pub async fn a_rate_limit_holds_in_every_window(env: Env) {
    let mut ids = Vec::new();
    for _ in 0..3 * RATE {
        ids.push(rate_limited::enqueue(&env.client).await.unwrap());
    }
    let fleet = workers(&env, &[rate_limited::NAME], 3);
    // while the first window is full, the rest wait as they were
    let probe = env.probe.clone();
    eventually("the first window's starts", move || {
        let probe = probe.clone();
        async move { probe.runs().len() >= RATE }
    })
    .await;
    let waiting = env
        .client
        .list(
            JobFilter::new()
                .kind(rate_limited::NAME)
                .state(JobState::Available),
        )
        .await
        .unwrap();
    assert!(!waiting.is_empty(), "the limit held some back");
    for job in &waiting {
        assert_eq!(job.attempt, 0, "a held-back job used an attempt: {job:#?}");
    }
    wait_completed(&env, &ids).await;
    shutdown(fleet).await;
    let mut starts: Vec<DateTime<Utc>> = env.probe.runs().iter().map(|run| run.at).collect();
    starts.sort();
    assert_eq!(starts.len(), ids.len());
    assert!(
        most_starts_in_a_window(&starts) <= RATE,
        "more than {RATE} starts in a window: {starts:#?}"
    );
    let span = (starts[starts.len() - 1] - starts[0]).to_std().unwrap();
    assert!(
        span >= 2 * WINDOW - START_SLACK,
        "{} starts at {RATE} a second took only {span:?}",
        starts.len()
    );
    one_attempt_each(&env, &ids).await;
}

pub async fn drain_respects_the_rate_limit(env: Env) {
    for _ in 0..RATE + 2 {
        rate_limited::enqueue(&env.client).await.unwrap();
    }
    let report = env
        .worker(&[rate_limited::NAME])
        .build()
        .unwrap()
        .drain()
        .await
        .unwrap();
    assert_eq!(report.completed, (RATE + 2) as u64);
    let mut starts: Vec<DateTime<Utc>> = env.probe.runs().iter().map(|run| run.at).collect();
    starts.sort();
    assert!(most_starts_in_a_window(&starts) <= RATE, "{starts:#?}");
    let span = (starts[starts.len() - 1] - starts[0]).to_std().unwrap();
    assert!(span >= WINDOW - START_SLACK, "drained too fast: {span:?}");
}

pub async fn a_held_back_kind_does_not_hold_back_other_kinds(env: Env) {
    let first = one_at_a_time::enqueue(&env.client, 1_500).await.unwrap();
    let second = one_at_a_time::enqueue(&env.client, 10).await.unwrap();
    let mut others = Vec::new();
    for label in ["x", "y", "z"] {
        others.push(
            record::enqueue(&env.client, label.to_owned())
                .await
                .unwrap(),
        );
    }
    let worker = env
        .worker(&[one_at_a_time::NAME, record::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, first, JobState::Running).await;
    wait_completed(&env, &others).await;
    let held = env.client.job(second).await.unwrap().expect("stored");
    assert_eq!(
        (held.state, held.attempt),
        (JobState::Available, 0),
        "the second waits for the first, unstarted: {held:#?}"
    );
    wait_completed(&env, &[first, second]).await;
    worker.shutdown().await;
}

pub async fn a_recurring_job_with_concurrency_one_never_overlaps(env: Env) {
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(no_overlap::trigger(&env.client).await.unwrap());
    }
    let fleet = workers(&env, &[no_overlap::NAME], 2);
    wait_completed(&env, &ids).await;
    shutdown(fleet).await;
    assert_eq!(env.probe.max_running_of("no_overlap"), 1);
}

pub async fn a_paused_queue_starts_nothing_until_resumed(env: Env) {
    const QUEUE: &str = "conformance-paused";
    let slow = crate::testing::jobs::slow::with(400)
        .queue(QUEUE)
        .enqueue(&env.client)
        .await
        .unwrap();
    let worker = env
        .worker(&[crate::testing::jobs::slow::NAME, record::NAME])
        .queue(QUEUE, 4)
        .build()
        .unwrap()
        .start();
    wait_for_state(&env.client, slow, JobState::Running).await;
    assert!(env.client.pause_queue(QUEUE).await.unwrap(), "was running");
    assert!(
        !env.client.pause_queue(QUEUE).await.unwrap(),
        "already paused"
    );
    // a paused queue still accepts jobs
    let mut waiting = Vec::new();
    for label in ["p1", "p2", "p3"] {
        let id = record::with(label.to_owned())
            .queue(QUEUE)
            .enqueue(&env.client)
            .await
            .unwrap();
        waiting.push(id);
    }
    // the running job finishes
    wait_for_state(&env.client, slow, JobState::Completed).await;
    // several poll intervals: nothing of the paused queue starts
    tokio::time::sleep(Duration::from_millis(400)).await;
    for &id in &waiting {
        let job = env.client.job(id).await.unwrap().expect("stored");
        assert_eq!(
            (job.state, job.attempt),
            (JobState::Available, 0),
            "{job:#?}"
        );
    }
    let queues = env.client.queues().await.unwrap();
    let paused = queues
        .iter()
        .find(|queue| queue.name == QUEUE)
        .expect("listed");
    assert!(paused.paused, "{queues:#?}");

    assert!(env.client.resume_queue(QUEUE).await.unwrap(), "was paused");
    assert!(
        !env.client.resume_queue(QUEUE).await.unwrap(),
        "already running"
    );
    wait_completed(&env, &waiting).await;
    worker.shutdown().await;
    let queues = env.client.queues().await.unwrap();
    let resumed = queues
        .iter()
        .find(|queue| queue.name == QUEUE)
        .expect("listed");
    assert!(!resumed.paused, "{queues:#?}");
}

pub async fn queues_lists_queues_with_jobs_or_a_pause(env: Env) {
    record::with("a".to_owned())
        .queue("conformance-alpha")
        .enqueue(&env.client)
        .await
        .unwrap();
    env.client.pause_queue("conformance-beta").await.unwrap();
    let queues = env.client.queues().await.unwrap();
    let listed: Vec<(&str, bool)> = queues
        .iter()
        .map(|queue| (queue.name.as_str(), queue.paused))
        .collect();
    assert_eq!(
        listed,
        [("conformance-alpha", false), ("conformance-beta", true)],
        "every queue with jobs or a pause, by name"
    );
    assert_eq!(
        env.client.paused_queues().await.unwrap(),
        ["conformance-beta"]
    );
    env.client.resume_queue("conformance-beta").await.unwrap();
    assert!(env.client.paused_queues().await.unwrap().is_empty());
    for bad in ["", "Mailer", "with space"] {
        let error = env.client.pause_queue(bad).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidQueue(ref name) if name == bad),
            "{error}"
        );
        let error = env.client.resume_queue(bad).await.unwrap_err();
        assert!(matches!(error, Error::InvalidQueue(_)), "{error}");
    }
}
