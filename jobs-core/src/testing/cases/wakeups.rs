//! Wake-ups: an idle worker hears a new job at once, not at its next poll,
//! whichever of its tasks listens (the producer, or an idle slot holding
//! the queue's watch), while a run waits, when a burst arrives, when
//! a job comes due soon, and on every queue a batch fills.

use std::time::Duration;

use tokio::time::Instant;

use crate::testing::jobs::{record, waits_for_cancel};
use crate::testing::{Env, wait_for_state};
use crate::{JobBuilder, JobId, JobState, WorkerBuilder, WorkerHandle};

/// Longer than any wait these cases allow: a job found by the poll fails.
const POLL: Duration = Duration::from_secs(30);
/// How soon a woken worker must have run a job.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Starts `builder`'s worker, polling only every 30 s, runs one job and
/// lets the worker go idle.
async fn idle_worker(env: &Env, builder: WorkerBuilder) -> WorkerHandle {
    let worker = builder.poll_interval(POLL).build().unwrap().start();
    let warm = record::enqueue(&env.client, "warm".into()).await.unwrap();
    wait_for_state(&env.client, warm, JobState::Completed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker
}

/// How long after `since` every job of `ids` had completed.
async fn completed_after(env: &Env, since: Instant, ids: &[JobId]) -> Duration {
    for &id in ids {
        wait_for_state(&env.client, id, JobState::Completed).await;
    }
    since.elapsed()
}

/// Enqueues `batch` in one call for the idle `worker`, waits until every
/// job of it completed and shuts the worker down: how long that took.
async fn batch_completed_after(
    env: &Env,
    worker: WorkerHandle,
    batch: Vec<JobBuilder>,
) -> Duration {
    let enqueued = Instant::now();
    let ids = env.client.enqueue_many(batch).await.unwrap();
    let took = completed_after(env, enqueued, &ids).await;
    worker.shutdown().await;
    took
}

pub async fn a_new_job_wakes_an_idle_worker(env: Env) {
    let worker = idle_worker(&env, env.worker(&[record::NAME])).await;
    let enqueued = Instant::now();
    let id = record::enqueue(&env.client, "wake".into()).await.unwrap();
    let took = completed_after(&env, enqueued, &[id]).await;
    worker.shutdown().await;
    assert!(
        took < PROMPTLY,
        "woken, not found by the 30 s poll ({took:?})"
    );
}

pub async fn a_new_job_starts_while_another_run_waits(env: Env) {
    let builder = env
        .worker(&[record::NAME, waits_for_cancel::NAME])
        .queue("default", 2);
    let worker = idle_worker(&env, builder).await;
    // claimed by the idle queue's watching slot, whose run then waits
    let waiting = waits_for_cancel::enqueue(&env.client).await.unwrap();
    wait_for_state(&env.client, waiting, JobState::Running).await;
    let enqueued = Instant::now();
    let id = record::enqueue(&env.client, "beside".into()).await.unwrap();
    let took = completed_after(&env, enqueued, &[id]).await;
    assert!(env.client.cancel(waiting).await.unwrap());
    worker.shutdown().await;
    assert!(
        took < PROMPTLY,
        "heard while the other run waits, not found by the 30 s poll ({took:?})"
    );
}

pub async fn a_burst_on_an_idle_queue_runs_without_waiting_for_the_poll(env: Env) {
    let builder = env
        .worker(&[record::NAME])
        .queue("default", 2)
        // claimed four at a time: the first claim is full, the rest follow
        .fetch_batch(4);
    let worker = idle_worker(&env, builder).await;
    let burst = (0..20)
        .map(|at| record::with(format!("burst {at}")))
        .collect();
    let took = batch_completed_after(&env, worker, burst).await;
    assert!(
        took < PROMPTLY,
        "the whole burst ran, not only the first claim ({took:?})"
    );
}

pub async fn a_batch_across_queues_wakes_each_queue(env: Env) {
    let builder = env
        .worker(&[record::NAME])
        .queue("default", 1)
        .queue("other", 1);
    let worker = idle_worker(&env, builder).await;
    // the second queue named only by the batch's later jobs
    let batch = vec![
        record::with("default".into()),
        record::with("other".into()).queue("other"),
        record::with("other again".into()).queue("other"),
    ];
    let took = batch_completed_after(&env, worker, batch).await;
    assert!(
        took < PROMPTLY,
        "each queue of the batch heard it, not only the first ({took:?})"
    );
}

pub async fn a_job_due_soon_runs_when_due_not_at_the_next_poll(env: Env) {
    let worker = idle_worker(&env, env.worker(&[record::NAME])).await;
    let due_in = Duration::from_millis(400);
    let enqueued = Instant::now();
    let id = record::schedule(&env.client, due_in, "soon".into())
        .await
        .unwrap();
    let took = completed_after(&env, enqueued, &[id]).await;
    worker.shutdown().await;
    assert!(
        took >= due_in && took < PROMPTLY,
        "ran when due, not early and not at the 30 s poll ({took:?})"
    );
}
