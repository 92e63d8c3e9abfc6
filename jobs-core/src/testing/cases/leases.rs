//! Leases, rescue and fencing: a worker that vanishes mid-run loses its
//! jobs to the leader's rescuer, which retries them with their own
//! backoff; whatever the vanished worker writes later is fenced out.
//!
//! The vanished worker is played by claiming jobs straight from the backend
//! and never renewing their leases.

use std::time::Duration;

use chrono::Utc;

use crate::backend::{
    FetchedJob, JobCompleteManyParams, JobExpiredListParams, JobFetchParams, JobHeartbeatParams,
    JobRescueManyParams, RunningAttempt,
};
use crate::testing::jobs::{fails_with_explicit_delays, record, typed};
use crate::testing::{Env, Outcome, WORKER_LOST, eventually, wait_for_state};
use crate::{JobId, JobState};

/// How long the vanished worker's leases last.
const SHORT_LEASE: Duration = Duration::from_millis(200);

/// Claims every due job of `kind` as a worker that then vanishes.
async fn claim_and_vanish(env: &Env, kind: &'static str, lease: Duration) -> Vec<FetchedJob> {
    let kinds = [kind];
    let params = JobFetchParams {
        queue: "default",
        kinds: &kinds,
        versions: &[],
        limit: 100,
        worker_id: "vanished-worker",
        lease,
        flow: None,
    };
    env.backend.job_fetch(params).await.unwrap().jobs
}

fn run_of(job: &FetchedJob) -> RunningAttempt {
    RunningAttempt {
        id: job.id,
        attempt: job.attempt,
    }
}

async fn complete(env: &Env, run: RunningAttempt, outcome: Outcome) {
    let params = JobCompleteManyParams {
        transitions: vec![outcome.into_transition(run)],
    };
    env.backend.job_complete_many(params).await.unwrap();
}

pub async fn an_expired_lease_is_rescued_with_the_jobs_backoff(env: Env) {
    // `delays = [5, 9]`: a failed first attempt is retried after 5 s
    let id = fails_with_explicit_delays::enqueue(&env.client)
        .await
        .unwrap();
    let claimed = claim_and_vanish(&env, fails_with_explicit_delays::NAME, SHORT_LEASE).await;
    assert_eq!(claimed.len(), 1);
    let leader = env.worker(&[record::NAME]).build().unwrap().start();
    let rescued = wait_for_state(&env.client, id, JobState::Retryable).await;
    let noticed = Utc::now();
    leader.shutdown().await;

    assert_eq!(rescued.attempt, 1, "the lost run counts as an attempt");
    assert_eq!(rescued.errors.len(), 1);
    assert!(
        rescued.errors[0].message.starts_with(WORKER_LOST),
        "the history says why: {:?}",
        rescued.errors[0].message
    );
    let wait = (rescued.scheduled_at - noticed).num_milliseconds();
    assert!(
        wait > 3_000,
        "retried after its 5 s delay, not at once (due in {wait} ms)"
    );
}

pub async fn an_expired_lease_on_the_last_attempt_is_dead(env: Env) {
    // `retries = 0`: the lost run was the only attempt
    let id = typed::enqueue(&env.client, 1, "x".into()).await.unwrap();
    claim_and_vanish(&env, typed::NAME, SHORT_LEASE).await;
    let leader = env.worker(&[record::NAME]).build().unwrap().start();
    let dead = wait_for_state(&env.client, id, JobState::Dead).await;
    leader.shutdown().await;
    assert_eq!(dead.attempt, 1);
    assert!(dead.finished_at.is_some());
    assert!(dead.errors[0].message.starts_with(WORKER_LOST));
}

pub async fn a_renewed_lease_is_not_rescued(env: Env) {
    let id = record::enqueue(&env.client, "kept".into()).await.unwrap();
    let claimed = claim_and_vanish(&env, record::NAME, SHORT_LEASE).await;
    let runs = [run_of(&claimed[0])];
    // a live worker that keeps renewing: three leases' worth
    for _ in 0..6 {
        let params = JobHeartbeatParams {
            running: &runs,
            lease: SHORT_LEASE,
        };
        let lost = env.backend.job_heartbeat(params).await.unwrap();
        assert!(lost.is_empty(), "the run is still its worker's: {lost:?}");
        let expired = env
            .backend
            .job_expired_list(JobExpiredListParams { limit: 10 })
            .await
            .unwrap();
        assert!(expired.is_empty(), "renewed, so not expired: {expired:?}");
        tokio::time::sleep(SHORT_LEASE / 2).await;
    }
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempt), (JobState::Running, 1));

    // once renewing stops, it expires; a rescue decided on a stale listing
    // does not apply to a run whose lease was renewed since
    tokio::time::sleep(SHORT_LEASE * 2).await;
    let expired = env
        .backend
        .job_expired_list(JobExpiredListParams { limit: 10 })
        .await
        .unwrap();
    assert_eq!(expired.iter().map(|job| job.run).collect::<Vec<_>>(), runs);
    let params = JobHeartbeatParams {
        running: &runs,
        lease: Duration::from_secs(30),
    };
    assert!(env.backend.job_heartbeat(params).await.unwrap().is_empty());
    let rescue = Outcome::Release.into_transition(runs[0]);
    let params = JobRescueManyParams {
        transitions: vec![rescue],
    };
    assert_eq!(env.backend.job_rescue_many(params).await.unwrap(), 0);
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Running, "the renewed lease wins");
}

pub async fn a_late_outcome_of_a_rescued_run_is_fenced_out(env: Env) {
    let id = fails_with_explicit_delays::enqueue(&env.client)
        .await
        .unwrap();
    let claimed = claim_and_vanish(&env, fails_with_explicit_delays::NAME, SHORT_LEASE).await;
    let stale = run_of(&claimed[0]);
    let leader = env.worker(&[record::NAME]).build().unwrap().start();
    wait_for_state(&env.client, id, JobState::Retryable).await;
    leader.shutdown().await;

    // the stalled worker wakes up and reports, and renews
    complete(&env, stale, Outcome::Completed).await;
    let params = JobHeartbeatParams {
        running: &[stale],
        lease: Duration::from_secs(30),
    };
    let lost = env.backend.job_heartbeat(params).await.unwrap();
    assert_eq!(lost, [id], "the worker learns its run is gone");
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(
        (info.state, info.attempt),
        (JobState::Retryable, 1),
        "the rescue stands"
    );

    // the next attempt runs; the old one's report still cannot touch it
    assert!(env.client.retry(id).await.unwrap());
    let again = claim_and_vanish(
        &env,
        fails_with_explicit_delays::NAME,
        Duration::from_secs(30),
    )
    .await;
    let current = run_of(&again[0]);
    assert_eq!(current.attempt, 2);
    complete(&env, stale, Outcome::Completed).await;
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempt), (JobState::Running, 2));
    complete(&env, current, Outcome::Completed).await;
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempt), (JobState::Completed, 2));
    // a second report of the same attempt changes nothing
    complete(&env, current, Outcome::Release).await;
    let info = env.client.job(id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Completed);
}

pub async fn a_released_job_keeps_its_place_in_the_queue(env: Env) {
    let first = record::enqueue(&env.client, "first".into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = record::enqueue(&env.client, "second".into()).await.unwrap();
    let kinds = [record::NAME];
    let fetch = |limit| JobFetchParams {
        queue: "default",
        kinds: &kinds,
        versions: &[],
        limit,
        worker_id: "w",
        lease: Duration::from_secs(30),
        flow: None,
    };
    let claimed = env.backend.job_fetch(fetch(1)).await.unwrap().jobs;
    assert_eq!(claimed[0].id, first);
    // given back unstarted (a shutdown): it goes first again
    complete(&env, run_of(&claimed[0]), Outcome::Release).await;
    let info = env.client.job(first).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempt), (JobState::Available, 0));
    let order: Vec<JobId> = env
        .backend
        .job_fetch(fetch(2))
        .await
        .unwrap()
        .jobs
        .iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(order, [first, second]);
}

pub async fn leadership_is_exclusive_and_handed_over(env: Env) {
    use crate::backend::{LeaderElectParams, LeaderResignParams};
    let term = Duration::from_millis(600);
    let elect = |worker_id| LeaderElectParams {
        worker_id,
        ttl: term,
    };
    let backend = &env.backend;
    assert!(backend.leader_elect(elect("a")).await.unwrap());
    assert!(!backend.leader_elect(elect("b")).await.unwrap(), "a leads");
    assert!(backend.leader_elect(elect("a")).await.unwrap(), "a renews");
    // a dies: its term lapses and b takes over
    eventually("b takes over a lapsed term", || async {
        backend.leader_elect(elect("b")).await.unwrap()
    })
    .await;
    assert!(
        !backend.leader_elect(elect("a")).await.unwrap(),
        "b leads now"
    );
    // b resigns at shutdown: a need not wait for the term to lapse
    backend
        .leader_resign(LeaderResignParams { worker_id: "b" })
        .await
        .unwrap();
    assert!(backend.leader_elect(elect("a")).await.unwrap());
    // resigning a term one does not hold changes nothing
    backend
        .leader_resign(LeaderResignParams { worker_id: "b" })
        .await
        .unwrap();
    assert!(!backend.leader_elect(elect("b")).await.unwrap());
}
