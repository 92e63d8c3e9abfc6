//! What a backend stores, through the `Backend` trait alone: transitions as
//! given, the admin operations' rules, and the schedules' compare-and-set.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ScheduleOrigin;
use crate::backend::{
    InsertMode, JobCompleteManyParams, JobFetchParams, JobHeartbeatParams, JobIdParams,
    JobInsertManyParams, NewJob, RunningAttempt, ScheduleAdvanceParams, ScheduleRemoveParams,
    ScheduleRestart, ScheduleSpec, ScheduleUpsertParams, ScheduledJob,
};
use crate::cron::Misfire;
use crate::testing::{Env, Outcome};
use crate::{AttemptError, JobFilter, JobId, JobState};

const KIND: &str = "conformance_stored_only";

fn job(max_attempts: u32) -> NewJob {
    NewJob {
        kind: Cow::Borrowed(KIND),
        queue: Cow::Borrowed("default"),
        args: "{}".to_owned(),
        priority: 0,
        max_attempts,
        version: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

async fn insert(env: &Env, jobs: Vec<NewJob>) -> Vec<JobId> {
    let params = JobInsertManyParams {
        jobs,
        mode: InsertMode::Wait,
    };
    env.backend.job_insert_many(params).await.unwrap()
}

async fn claim(env: &Env, limit: usize) -> Vec<RunningAttempt> {
    let params = JobFetchParams {
        queue: "default",
        kinds: &[KIND],
        versions: &[],
        limit,
        worker_id: "conformance",
        lease: Duration::from_secs(30),
    };
    let jobs = env.backend.job_fetch(params).await.unwrap().jobs;
    jobs.iter()
        .map(|job| RunningAttempt {
            id: job.id,
            attempt: job.attempt,
        })
        .collect()
}

async fn store(env: &Env, ended: Vec<(RunningAttempt, Outcome)>) {
    let transitions = ended
        .into_iter()
        .map(|(run, outcome)| outcome.into_transition(run))
        .collect();
    let params = JobCompleteManyParams { transitions };
    env.backend.job_complete_many(params).await.unwrap();
}

fn error(message: &str) -> AttemptError {
    AttemptError {
        attempt: 1,
        message: message.to_owned(),
        at: Utc::now(),
    }
}

pub async fn each_transition_is_stored_as_given(env: Env) {
    let ids = insert(&env, (0..6).map(|_| job(3)).collect()).await;
    let runs = claim(&env, 6).await;
    assert_eq!(runs.len(), 6);
    let later = Utc::now() + chrono::Duration::seconds(600);
    let outcomes = [
        Outcome::Completed,
        Outcome::Retry {
            at: later,
            error: error("boom"),
        },
        Outcome::Dead {
            error: error("fatal"),
        },
        Outcome::Snooze { at: later },
        Outcome::Cancelled {
            error: error("not needed"),
        },
        Outcome::Release,
    ];
    store(&env, runs.into_iter().zip(outcomes).collect()).await;
    let mut got = Vec::new();
    for &id in &ids {
        let info = env.client.job(id).await.unwrap().unwrap();
        got.push((
            info.state,
            info.attempt,
            info.errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>(),
            info.finished_at.is_some(),
        ));
    }
    let errors = |message: &str| vec![message.to_owned()];
    assert_eq!(
        got,
        [
            (JobState::Completed, 1, vec![], true),
            (JobState::Retryable, 1, errors("boom"), false),
            (JobState::Dead, 1, errors("fatal"), true),
            (JobState::Scheduled, 0, vec![], false),
            (JobState::Cancelled, 1, errors("not needed"), true),
            (JobState::Available, 0, vec![], false),
        ]
    );
    for id in [ids[1], ids[3]] {
        let due = env.client.job(id).await.unwrap().unwrap().scheduled_at;
        assert!(
            (due - later).num_milliseconds().abs() < 5,
            "due at {due}, not {later}"
        );
    }
}

pub async fn admin_retry_cancel_and_delete_follow_their_rules(env: Env) {
    let ids = insert(&env, vec![job(1), job(3), job(3)]).await;
    let runs = claim(&env, 2).await;
    assert_eq!(runs.len(), 2);
    let by_id = |id| JobIdParams { id };
    let backend = &env.backend;
    // a running job cannot be deleted; it can be cancelled, its worker
    // learns of it at the next heartbeat, and its late outcome is ignored
    assert!(!backend.job_delete(by_id(ids[1])).await.unwrap());
    assert!(backend.job_cancel(by_id(ids[1])).await.unwrap());
    let params = JobHeartbeatParams {
        running: &runs,
        lease: Duration::from_secs(30),
    };
    assert_eq!(backend.job_heartbeat(params).await.unwrap(), [ids[1]]);
    store(&env, vec![(runs[1], Outcome::Completed)]).await;
    let cancelled = env.client.job(ids[1]).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert!(
        !backend.job_cancel(by_id(ids[1])).await.unwrap(),
        "already finished"
    );

    // a dead job with its attempts spent gets one more
    let dead = Outcome::Dead { error: error("x") };
    store(&env, vec![(runs[0], dead)]).await;
    assert!(backend.job_retry(by_id(ids[0])).await.unwrap());
    let retried = env.client.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (retried.state, retried.max_attempts, retried.finished_at),
        (JobState::Available, 2, None)
    );
    assert!(
        !backend.job_retry(by_id(ids[0])).await.unwrap(),
        "already available"
    );
    assert!(
        !backend
            .job_retry(by_id(JobId::new(i64::MAX)))
            .await
            .unwrap()
    );

    assert!(backend.job_delete(by_id(ids[2])).await.unwrap());
    assert!(!backend.job_delete(by_id(ids[2])).await.unwrap());
    assert!(env.client.job(ids[2]).await.unwrap().is_none());

    let filter = JobFilter::new().state(JobState::Cancelled);
    let listed = env.client.list(filter).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[1]]);
}

fn spec(cron: &str) -> ScheduleSpec {
    ScheduleSpec {
        id: "conformance-stored".into(),
        cron: cron.into(),
        tz: "UTC".into(),
        misfire: Misfire::Once,
        job: ScheduledJob {
            kind: KIND.into(),
            queue: "default".into(),
            args: "{}".into(),
            priority: 0,
            max_attempts: 3,
            version: 1,
        },
        origin: ScheduleOrigin::Declared,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub async fn schedule_advance_is_a_compare_and_set_with_its_jobs(env: Env) {
    let backend = &env.backend;
    let upsert = |spec, next_run_at| async move {
        let params = ScheduleUpsertParams {
            spec: &spec,
            next_run_at,
            declared_for: Duration::from_secs(30),
            restart: ScheduleRestart::OnTimingChange,
        };
        backend.schedule_upsert(params).await.unwrap()
    };
    let t0 = at("2030-01-01T00:01:00Z");
    assert_eq!(upsert(spec("0 * * * * *"), t0).await.next_run_at, t0);
    // an unchanged schedule keeps its stored tick; a changed one restarts
    let kept = upsert(spec("0 * * * * *"), at("2030-01-01T05:00:00Z")).await;
    assert_eq!(kept.next_run_at, t0);
    let mut moved = spec("0 * * * * *");
    moved.job.queue = "reports".into();
    moved.misfire = Misfire::Skip;
    let updated = upsert(moved, at("2030-01-01T05:00:00Z")).await;
    assert_eq!(
        (
            updated.next_run_at,
            updated.spec.job.queue.as_str(),
            updated.spec.misfire
        ),
        (t0, "reports", Misfire::Skip),
        "the rest of the definition is taken, the tick kept"
    );
    // a scheduler that read the definition before that upsert ticks nothing
    let read_before = spec("0 * * * * *");
    let stale = ScheduleAdvanceParams {
        spec: &read_before,
        expected_next: t0,
        next_run_at: at("2030-01-01T00:02:00Z"),
        jobs: vec![job(3)],
    };
    assert!(
        !backend.schedule_advance(stale).await.unwrap(),
        "the definition changed since it was read"
    );
    assert!(env.client.list(JobFilter::new()).await.unwrap().is_empty());
    upsert(spec("0 * * * * *"), t0).await;
    let current = spec("0 * * * * *");

    let tick_job = |tick| NewJob {
        scheduled_at: Some(tick),
        ..job(3)
    };
    let advance = |expected_next, next_run_at, jobs| ScheduleAdvanceParams {
        spec: &current,
        expected_next,
        next_run_at,
        jobs,
    };
    let t1 = at("2030-01-01T00:02:00Z");
    let stale = advance(t1, t1, vec![tick_job(t1)]);
    assert!(
        !backend.schedule_advance(stale).await.unwrap(),
        "wrong expectation"
    );
    assert!(env.client.list(JobFilter::new()).await.unwrap().is_empty());

    // ten racers for one tick: one wins, one job
    let mut racers = Vec::new();
    for _ in 0..10 {
        let backend = std::sync::Arc::clone(&env.backend);
        let (spec, jobs) = (current.clone(), vec![tick_job(t0)]);
        racers.push(tokio::spawn(async move {
            let params = ScheduleAdvanceParams {
                spec: &spec,
                expected_next: t0,
                next_run_at: t1,
                jobs,
            };
            backend.schedule_advance(params).await.unwrap()
        }));
    }
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1);
    let jobs = env.client.list(JobFilter::new()).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].scheduled_at, t0);
    let listed = backend.schedule_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].next_run_at, t1);
    assert!(listed[0].last_run_at.is_some());

    let changed = upsert(spec("0 */5 * * * *"), at("2030-01-01T00:05:00Z")).await;
    assert_eq!(changed.next_run_at, at("2030-01-01T00:05:00Z"));
    let remove = || ScheduleRemoveParams {
        id: "conformance-stored",
    };
    assert!(backend.schedule_remove(remove()).await.unwrap());
    assert!(!backend.schedule_remove(remove()).await.unwrap());
    let gone = advance(at("2030-01-01T00:05:00Z"), t1, vec![]);
    assert!(!backend.schedule_advance(gone).await.unwrap());
}
