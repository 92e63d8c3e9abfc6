//! The backend against a real PostgreSQL, through the `Backend` trait:
//! migrations, claim order, kind filter, fencing, unique jobs, transactional
//! enqueue, schedules, leader election, rescue and pruning.

mod common;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::backend::{
    Backend, Completion, FetchRequest, InsertMode, NewJob, Outcome, ScheduleSpec,
};
use jobs_core::registry::JobDefinition;
use jobs_core::retry::RetryPolicy;
use jobs_core::{AttemptError, JobBuilder, JobId, JobState};
use jobs_postgres::prelude::*;
use jobs_postgres::{Error, SCHEMA_VERSION, sqlx};

use common::{backend_on, drop_schema, fresh_backend, schema_name};

const LEASE: Duration = Duration::from_secs(30);

fn job(kind: &'static str) -> NewJob {
    NewJob {
        kind: Cow::Borrowed(kind),
        queue: Cow::Borrowed("default"),
        args: "{}".to_owned(),
        priority: 0,
        max_attempts: 3,
        scheduled_at: None,
        unique_key: None,
    }
}

fn request<'a>(kinds: &'a [&'a str], limit: usize) -> FetchRequest<'a> {
    FetchRequest {
        queue: "default",
        kinds,
        limit,
        worker_id: "test-worker",
        lease: LEASE,
    }
}

async fn insert(backend: &PgBackend, jobs: Vec<NewJob>) -> Vec<JobId> {
    backend
        .job_insert_many(jobs, InsertMode::Wait)
        .await
        .expect("insert")
}

async fn state_of(backend: &PgBackend, id: JobId) -> JobState {
    backend
        .job_get(id)
        .await
        .unwrap()
        .expect("job exists")
        .state
}

/// Moves a running job's lease into the past, as if its worker died.
async fn expire_lease(backend: &PgBackend, id: JobId) {
    sqlx::query(&format!(
        "UPDATE \"{}\".jobs SET leased_until = now() - interval '1 second' WHERE id = $1",
        backend.schema()
    ))
    .bind(id.get())
    .execute(backend.pool())
    .await
    .unwrap();
}

fn attempt_error(attempt: u32, message: &str) -> AttemptError {
    AttemptError {
        attempt,
        message: message.to_owned(),
        at: Utc::now(),
    }
}

#[tokio::test]
async fn migrate_is_idempotent_and_refuses_a_newer_schema() {
    let backend = fresh_backend().await;
    backend.migrate().await.expect("second migrate is a no-op");
    backend.check_schema().await.expect("version matches");
    let versions: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM \"{}\".schema_migrations ORDER BY version",
        backend.schema()
    ))
    .fetch_all(backend.pool())
    .await
    .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());

    // a newer binary migrated this schema
    sqlx::query(&format!(
        "INSERT INTO \"{}\".schema_migrations (version, name) VALUES ($1, 'from the future')",
        backend.schema()
    ))
    .bind(SCHEMA_VERSION + 1)
    .execute(backend.pool())
    .await
    .unwrap();
    let older_binary = backend_on(backend.schema()).await;
    let error = older_binary.migrate().await.expect_err("refused");
    assert!(
        matches!(error, Error::SchemaTooNew { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer"), "{error}");
    let error = older_binary
        .job_fetch(request(&["a"], 1))
        .await
        .expect_err("a worker refuses to fetch");
    assert!(
        error
            .to_string()
            .contains("newer than the newest this binary knows"),
        "{error}"
    );
    let error = older_binary
        .leader_elect("w", LEASE)
        .await
        .expect_err("and to lead");
    assert!(error.to_string().contains("newer"), "{error}");
    drop_schema(&backend).await;
}

#[tokio::test]
async fn an_unmigrated_schema_is_reported() {
    let backend = backend_on(&schema_name()).await;
    let error = backend
        .job_fetch(request(&["a"], 1))
        .await
        .expect_err("not migrated");
    assert!(error.to_string().contains("migrate()"), "{error}");
    let error = backend.check_schema().await.expect_err("not migrated");
    assert!(
        matches!(error, Error::NotMigrated { found: 0, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_schema_names_are_refused() {
    for name in ["Jobs", "1x", "a;drop table x", ""] {
        let error = PgBackend::builder()
            .schema(name)
            .connect(&common::database_url())
            .await
            .expect_err("invalid");
        assert!(matches!(error, Error::InvalidSchemaName(_)), "{error:?}");
    }
}

#[tokio::test]
async fn fetch_claims_by_priority_then_time_then_id() {
    let backend = fresh_backend().await;
    let past = Utc::now() - chrono::Duration::seconds(60);
    let future = Utc::now() + chrono::Duration::seconds(3600);
    let specs: Vec<(i16, Option<DateTime<Utc>>)> = vec![
        (5, None),
        (0, None),
        (-5, None),
        (0, Some(past)),
        (-5, Some(future)),
        (0, None),
    ];
    let ids = insert(
        &backend,
        specs
            .iter()
            .map(|&(priority, at)| NewJob {
                priority,
                scheduled_at: at,
                ..job("a")
            })
            .collect(),
    )
    .await;
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids grow in order: {ids:?}"
    );
    assert_eq!(state_of(&backend, ids[4]).await, JobState::Scheduled);
    assert_eq!(state_of(&backend, ids[0]).await, JobState::Available);

    let batch = backend.job_fetch(request(&["a"], 10)).await.unwrap();
    let order: Vec<JobId> = batch.jobs.iter().map(|j| j.id).collect();
    assert_eq!(order, [ids[2], ids[3], ids[1], ids[5], ids[0]]);
    assert!(
        batch
            .jobs
            .iter()
            .all(|j| j.attempt == 1 && j.max_attempts == 3)
    );
    let due = batch.next_due_at.expect("the future job's time");
    assert!(
        (due - future).num_milliseconds().abs() < 5,
        "{due} vs {future}"
    );

    let info = backend.job_get(ids[2]).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Running);
    assert_eq!(info.attempt, 1);
    assert!(info.attempted_at.is_some());
    assert!(
        backend
            .job_fetch(request(&["a"], 10))
            .await
            .unwrap()
            .jobs
            .is_empty()
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_full_batch_is_limited_and_concurrent_fetches_never_share_a_job() {
    let backend = fresh_backend().await;
    insert(&backend, (0..200).map(|_| job("a")).collect()).await;
    let first = backend.job_fetch(request(&["a"], 7)).await.unwrap();
    assert_eq!(first.jobs.len(), 7);
    assert_eq!(first.next_due_at, None, "not asked after a full batch");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let backend = backend.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = backend.job_fetch(request(&["a"], 5)).await.unwrap();
                if batch.jobs.is_empty() {
                    return mine;
                }
                mine.extend(batch.jobs.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all: Vec<JobId> = first.jobs.iter().map(|j| j.id).collect();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), claimed, "a job was claimed twice");
    assert_eq!(claimed, 200);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn unknown_kinds_stay_available() {
    let backend = fresh_backend().await;
    let ids = insert(&backend, vec![job("unknown"), job("known")]).await;
    let batch = backend
        .job_fetch(request(&["known", "other"], 10))
        .await
        .unwrap();
    assert_eq!(
        batch.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let unknown = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(unknown.state, JobState::Available);
    assert_eq!(unknown.attempt, 0);
    let counts = backend.job_counts().await.unwrap();
    assert_eq!(counts.get("default", JobState::Available), 1);
    assert_eq!(counts.get("default", JobState::Running), 1);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn completions_are_fenced_by_attempt() {
    let backend = fresh_backend().await;
    let id = insert(&backend, vec![job("a")]).await[0];
    let first = backend.job_fetch(request(&["a"], 1)).await.unwrap().jobs;
    assert_eq!(first[0].attempt, 1);

    // the worker stalls past its lease; the rescuer puts the job back
    expire_lease(&backend, id).await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.rescued, 1);
    let rescued = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(rescued.state, JobState::Retryable);
    assert_eq!(rescued.errors.len(), 1);
    assert_eq!(rescued.errors[0].attempt, 1);
    assert!(
        rescued.errors[0].message.starts_with("worker lost"),
        "{:?}",
        rescued.errors
    );

    // the stale worker's heartbeat learns its attempt is gone
    let gone = backend.job_heartbeat(&[(id, 1)], LEASE).await.unwrap();
    assert_eq!(gone, [id]);

    let second = backend.job_fetch(request(&["a"], 1)).await.unwrap().jobs;
    assert_eq!(second[0].attempt, 2);
    // the stale worker wakes up and reports success: ignored
    backend
        .job_complete_many(vec![Completion {
            id,
            attempt: 1,
            outcome: Outcome::Completed,
        }])
        .await
        .unwrap();
    let info = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Running);
    assert_eq!(info.attempt, 2);
    assert_eq!(
        backend.job_heartbeat(&[(id, 2)], LEASE).await.unwrap(),
        Vec::<JobId>::new()
    );

    backend
        .job_complete_many(vec![Completion {
            id,
            attempt: 2,
            outcome: Outcome::Dead {
                error: attempt_error(2, "bad input"),
            },
        }])
        .await
        .unwrap();
    let dead = backend.job_get(id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.finished_at.is_some());
    assert_eq!(
        dead.errors
            .iter()
            .map(|e| (e.attempt, e.message.as_str()))
            .collect::<Vec<_>>()[1],
        (2, "bad input")
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn every_outcome_lands_in_its_state() {
    let backend = fresh_backend().await;
    let ids = insert(&backend, (0..6).map(|_| job("a")).collect()).await;
    let jobs = backend.job_fetch(request(&["a"], 6)).await.unwrap().jobs;
    assert_eq!(jobs.len(), 6);
    let later = Utc::now() + chrono::Duration::seconds(600);
    let outcomes = [
        Outcome::Completed,
        Outcome::Retry {
            at: later,
            error: attempt_error(1, "boom"),
        },
        Outcome::Dead {
            error: attempt_error(1, "fatal"),
        },
        Outcome::Snooze { at: later },
        Outcome::Cancelled {
            error: attempt_error(1, "not needed"),
        },
        Outcome::Release,
    ];
    backend
        .job_complete_many(
            ids.iter()
                .zip(outcomes)
                .map(|(&id, outcome)| Completion {
                    id,
                    attempt: 1,
                    outcome,
                })
                .collect(),
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    for &id in &ids {
        let info = backend.job_get(id).await.unwrap().unwrap();
        got.push((
            info.state,
            info.attempt,
            info.errors.len(),
            info.finished_at.is_some(),
        ));
    }
    assert_eq!(
        got,
        [
            (JobState::Completed, 1, 0, true),
            (JobState::Retryable, 1, 1, false),
            (JobState::Dead, 1, 1, true),
            (JobState::Scheduled, 0, 0, false),
            (JobState::Cancelled, 1, 1, true),
            (JobState::Available, 0, 0, false),
        ]
    );
    let retry = backend.job_get(ids[1]).await.unwrap().unwrap();
    assert!((retry.scheduled_at - later).num_milliseconds().abs() < 5);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn fifty_concurrent_unique_enqueues_store_one_job() {
    let backend = fresh_backend().await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let backend = backend.clone();
        tasks.push(tokio::spawn(async move {
            let job = NewJob {
                unique_key: Some("report-7".into()),
                args: format!("{{\"n\":{n}}}"),
                ..job("report")
            };
            backend
                .job_insert_many(vec![job], InsertMode::Wait)
                .await
                .unwrap()[0]
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert!(
        ids.iter().all(|&id| id == ids[0]),
        "everyone gets the one id: {ids:?}"
    );
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM \"{}\".jobs",
        backend.schema()
    ))
    .fetch_one(backend.pool())
    .await
    .unwrap();
    assert_eq!(count, 1);

    // in one batch, and alongside other jobs
    let batch = insert(
        &backend,
        vec![
            NewJob {
                unique_key: Some("report-7".into()),
                ..job("report")
            },
            job("plain"),
            NewJob {
                unique_key: Some("report-8".into()),
                ..job("report")
            },
            NewJob {
                unique_key: Some("report-8".into()),
                ..job("report")
            },
            NewJob {
                unique_key: Some("report-7".into()),
                ..job("other-kind")
            },
        ],
    )
    .await;
    assert_eq!(batch[0], ids[0]);
    assert_eq!(batch[2], batch[3]);
    assert!(batch[1] > ids[0] && batch[2] > batch[1] && batch[4] > batch[2]);

    // once finished, the key is free again
    let claimed = backend
        .job_fetch(request(&["report"], 10))
        .await
        .unwrap()
        .jobs;
    backend
        .job_complete_many(
            claimed
                .iter()
                .map(|j| Completion {
                    id: j.id,
                    attempt: 1,
                    outcome: Outcome::Completed,
                })
                .collect(),
        )
        .await
        .unwrap();
    let again = insert(
        &backend,
        vec![NewJob {
            unique_key: Some("report-7".into()),
            ..job("report")
        }],
    )
    .await;
    assert_ne!(again[0], ids[0]);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn unique_keys_may_be_larger_than_an_index_entry() {
    let backend = fresh_backend().await;
    // a unique job's key defaults to its arguments, which may be large
    let key = format!("{{\"blob\":\"{}\"}}", "x".repeat(100_000));
    let big = || NewJob {
        args: key.clone(),
        unique_key: Some(key.clone()),
        ..job("report")
    };
    let first = insert(&backend, vec![big()]).await;
    let again = insert(&backend, vec![big(), big()]).await;
    assert_eq!(again, [first[0], first[0]]);
    let other = insert(
        &backend,
        vec![NewJob {
            unique_key: Some(format!("{key} ")),
            ..big()
        }],
    )
    .await;
    assert_ne!(other[0], first[0]);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_unique_insert_waits_for_a_competing_transaction_that_rolls_back() {
    let backend = fresh_backend().await;
    let mut tx = backend.pool().begin().await.unwrap();
    let ours = backend
        .enqueue_tx(&mut tx, JobBuilder::new(&UNIQUE, Ok("{\"user\":1}".into())))
        .await
        .unwrap();
    let competing = {
        let backend = backend.clone();
        tokio::spawn(async move {
            let job = NewJob {
                unique_key: Some("{\"user\":1}".into()),
                ..job(UNIQUE.name)
            };
            backend
                .job_insert_many(vec![job], InsertMode::Wait)
                .await
                .unwrap()[0]
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !competing.is_finished(),
        "the competing insert waits for our transaction"
    );
    tx.rollback().await.unwrap();
    let theirs = competing.await.unwrap();
    assert_ne!(theirs, ours);
    assert!(backend.job_get(ours).await.unwrap().is_none());
    assert_eq!(state_of(&backend, theirs).await, JobState::Available);
    drop_schema(&backend).await;
}

fn no_op(_: jobs_core::registry::Invocation) -> jobs_core::registry::JobFuture {
    Box::pin(async { Ok(()) })
}

static WELCOME: JobDefinition = JobDefinition {
    name: "welcome",
    location: "backend tests",
    queue: "mail",
    priority: 0,
    retry: RetryPolicy::new(3),
    timeout: None,
    unique: false,
    states: &[],
    run: no_op,
};

static UNIQUE: JobDefinition = JobDefinition {
    name: "unique_welcome",
    location: "backend tests",
    queue: "default",
    priority: 0,
    retry: RetryPolicy::new(3),
    timeout: None,
    unique: true,
    states: &[],
    run: no_op,
};

#[tokio::test]
async fn enqueue_tx_exists_only_if_the_transaction_commits() {
    let backend = fresh_backend().await;
    let mut wakeup = backend.job_wakeup("mail");
    // let the listener connect before anything is sent
    tokio::time::sleep(Duration::from_millis(300)).await;
    wakeup.mark_seen();

    let mut tx = backend.pool().begin().await.unwrap();
    let rolled_back = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":1}".into())),
        )
        .await
        .unwrap();
    assert!(
        backend.job_get(rolled_back).await.unwrap().is_none(),
        "invisible before commit"
    );
    tx.rollback().await.unwrap();
    assert!(
        backend.job_get(rolled_back).await.unwrap().is_none(),
        "gone after rollback"
    );
    assert!(
        !wakeup.wait(Duration::from_millis(300)).await,
        "no wake-up for a rolled-back job"
    );

    let mut tx = backend.pool().begin().await.unwrap();
    let committed = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&WELCOME, Ok("{\"user\":2}".into())),
        )
        .await
        .unwrap();
    assert!(
        !wakeup.wait(Duration::from_millis(200)).await,
        "no wake-up before commit"
    );
    tx.commit().await.unwrap();
    assert!(wakeup.wait(Duration::from_secs(5)).await, "woken at commit");
    let info = backend.job_get(committed).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Available);
    assert_eq!(info.queue, "mail");
    assert_eq!(info.args, serde_json::json!({"user": 2}));
    drop_schema(&backend).await;
}

/// `EnqueueTx` (the prelude's `enqueue_tx`) works on the default schema.
#[tokio::test]
async fn enqueue_tx_trait_uses_the_default_schema() {
    let pool = sqlx::PgPool::connect(&common::database_url())
        .await
        .unwrap();
    let backend = PgBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let id = JobBuilder::new(&WELCOME, Ok("{\"user\":3}".into()))
        .enqueue_tx(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let info = backend.job_get(id).await.unwrap().expect("committed");
    assert_eq!(info.kind, "welcome");
    assert!(backend.job_delete(id).await.unwrap());

    let mut tx = pool.begin().await.unwrap();
    let id = JobBuilder::new(&WELCOME, Ok("{\"user\":4}".into()))
        .enqueue_tx(&mut tx)
        .await
        .unwrap();
    drop(tx); // rolls back
    assert!(backend.job_get(id).await.unwrap().is_none());
}

fn spec(id: &str, cron: &str) -> ScheduleSpec {
    ScheduleSpec {
        id: id.into(),
        kind: "tick".into(),
        cron: cron.into(),
        tz: "UTC".into(),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn schedule_advance_is_a_compare_and_set_with_its_jobs() {
    let backend = fresh_backend().await;
    let t0 = at("2026-01-01T00:01:00Z");
    let stored = backend
        .schedule_upsert(&spec("s", "0 * * * * *"), t0)
        .await
        .unwrap();
    assert_eq!(stored.next_run_at, t0);
    // an unchanged schedule keeps its stored tick; a changed one restarts
    let kept = backend
        .schedule_upsert(&spec("s", "0 * * * * *"), at("2026-01-01T05:00:00Z"))
        .await
        .unwrap();
    assert_eq!(kept.next_run_at, t0);

    let tick_job = |tick| NewJob {
        scheduled_at: Some(tick),
        ..job("tick")
    };
    let t1 = at("2026-01-01T00:02:00Z");
    assert!(
        !backend
            .schedule_advance("s", t1, t1, vec![tick_job(t1)])
            .await
            .unwrap(),
        "wrong expectation"
    );
    assert!(
        backend
            .job_list(&jobs_core::JobFilter::new())
            .await
            .unwrap()
            .is_empty()
    );

    // ten racers for one tick: one wins, one job
    let mut racers = Vec::new();
    for _ in 0..10 {
        let backend = backend.clone();
        racers.push(tokio::spawn(async move {
            backend
                .schedule_advance("s", t0, t1, vec![tick_job(t0)])
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1);
    let jobs = backend
        .job_list(&jobs_core::JobFilter::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].scheduled_at, t0);
    let listed = backend.schedule_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].next_run_at, t1);
    assert!(listed[0].last_run_at.is_some());

    let changed = backend
        .schedule_upsert(&spec("s", "0 */5 * * * *"), at("2026-01-01T00:05:00Z"))
        .await
        .unwrap();
    assert_eq!(changed.next_run_at, at("2026-01-01T00:05:00Z"));
    assert!(backend.schedule_remove("s").await.unwrap());
    assert!(!backend.schedule_remove("s").await.unwrap());
    assert!(
        !backend
            .schedule_advance("s", at("2026-01-01T00:05:00Z"), t1, vec![])
            .await
            .unwrap()
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn leadership_passes_on_when_the_term_expires() {
    let backend = fresh_backend().await;
    let ttl = Duration::from_millis(600);
    assert!(backend.leader_elect("a", ttl).await.unwrap());
    assert!(!backend.leader_elect("b", ttl).await.unwrap());
    assert!(backend.leader_elect("a", ttl).await.unwrap(), "renewed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        backend.leader_elect("a", ttl).await.unwrap(),
        "renewed before it lapsed"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !backend.leader_elect("b", ttl).await.unwrap(),
        "the renewal extended the term"
    );
    // `a` dies: no more renewals
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        backend.leader_elect("b", ttl).await.unwrap(),
        "taken over after expiry"
    );
    assert!(
        !backend.leader_elect("a", ttl).await.unwrap(),
        "the old leader is a follower now"
    );
    backend.leader_resign("a").await.unwrap();
    assert!(
        !backend.leader_elect("c", ttl).await.unwrap(),
        "resigning a term not held does nothing"
    );
    backend.leader_resign("b").await.unwrap();
    assert!(
        backend.leader_elect("c", ttl).await.unwrap(),
        "free at once after resigning"
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn rescue_retries_or_buries_jobs_whose_lease_expired() {
    let backend = fresh_backend().await;
    let ids = insert(
        &backend,
        vec![
            NewJob {
                max_attempts: 1,
                ..job("a")
            },
            job("a"),
            job("a"),
        ],
    )
    .await;
    let claimed = backend.job_fetch(request(&["a"], 3)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 3);
    expire_lease(&backend, ids[0]).await;
    expire_lease(&backend, ids[1]).await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.rescued, 2);

    let spent = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(spent.state, JobState::Dead, "its only attempt was lost");
    assert!(spent.finished_at.is_some());
    assert!(spent.errors[0].message.starts_with("worker lost"));
    let retried = backend.job_get(ids[1]).await.unwrap().unwrap();
    assert_eq!(retried.state, JobState::Retryable);
    assert!(retried.scheduled_at <= Utc::now(), "due at once");
    assert_eq!(
        state_of(&backend, ids[2]).await,
        JobState::Running,
        "a live lease is left alone"
    );

    let again = backend.job_fetch(request(&["a"], 3)).await.unwrap().jobs;
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempt)).collect::<Vec<_>>(),
        [(ids[1], 2)]
    );
    assert_eq!(backend.maintain().await.unwrap().rescued, 0);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn prune_deletes_finished_jobs_past_their_retention() {
    let schema = schema_name();
    let backend = PgBackend::builder()
        .schema(&schema)
        .completed_retention(Duration::from_secs(3600))
        .dead_retention(Duration::from_secs(7 * 86_400))
        .maintenance_batch(2)
        .connect(&common::database_url())
        .await
        .unwrap();
    backend.migrate().await.unwrap();
    let ids = insert(&backend, (0..8).map(|_| job("a")).collect()).await;
    let claimed = backend.job_fetch(request(&["a"], 7)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 7);
    let outcomes = |i: usize| match i {
        0..=3 => Outcome::Completed,
        4 => Outcome::Dead {
            error: attempt_error(1, "x"),
        },
        5 => Outcome::Cancelled {
            error: attempt_error(1, "x"),
        },
        _ => Outcome::Completed,
    };
    backend
        .job_complete_many(
            ids[..7]
                .iter()
                .enumerate()
                .map(|(i, &id)| Completion {
                    id,
                    attempt: 1,
                    outcome: outcomes(i),
                })
                .collect(),
        )
        .await
        .unwrap();
    // ages: 0-3 completed 2 h ago (past), 4 dead and 5 cancelled 2 days ago
    // (kept), 6 completed just now (kept), 7 never ran
    let backdate = |ids: &[JobId], age: &str| {
        let sql = format!(
            "UPDATE \"{schema}\".jobs SET finished_at = now() - interval '{age}' WHERE id = ANY($1)"
        );
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let pool = backend.pool().clone();
        async move { sqlx::query(&sql).bind(ids).execute(&pool).await.unwrap() }
    };
    backdate(&ids[0..4], "2 hours").await;
    backdate(&ids[4..6], "2 days").await;
    let report = backend.maintain().await.unwrap();
    assert_eq!(report.pruned, 4, "in batches of 2");
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(
            backend.job_get(id).await.unwrap().is_some(),
            i >= 4,
            "job {i}"
        );
    }
    backdate(&ids[4..6], "8 days").await;
    assert_eq!(backend.maintain().await.unwrap().pruned, 2);
    assert!(backend.job_get(ids[4]).await.unwrap().is_none());
    assert!(backend.job_get(ids[6]).await.unwrap().is_some());
    drop_schema(&backend).await;
}

#[tokio::test]
async fn admin_retry_cancel_and_delete() {
    let backend = fresh_backend().await;
    let ids = insert(
        &backend,
        vec![
            NewJob {
                max_attempts: 1,
                ..job("a")
            },
            job("a"),
            job("a"),
        ],
    )
    .await;
    let claimed = backend.job_fetch(request(&["a"], 2)).await.unwrap().jobs;
    assert_eq!(claimed.len(), 2);
    // a running job cannot be deleted; it can be cancelled, and its worker
    // learns of it at the next heartbeat; its late outcome is ignored
    assert!(!backend.job_delete(ids[1]).await.unwrap());
    assert!(backend.job_cancel(ids[1]).await.unwrap());
    assert_eq!(
        backend
            .job_heartbeat(&[(ids[0], 1), (ids[1], 1)], LEASE)
            .await
            .unwrap(),
        [ids[1]]
    );
    backend
        .job_complete_many(vec![Completion {
            id: ids[1],
            attempt: 1,
            outcome: Outcome::Completed,
        }])
        .await
        .unwrap();
    assert_eq!(state_of(&backend, ids[1]).await, JobState::Cancelled);
    assert!(
        !backend.job_cancel(ids[1]).await.unwrap(),
        "already finished"
    );

    // a dead job with its attempts spent gets one more
    backend
        .job_complete_many(vec![Completion {
            id: ids[0],
            attempt: 1,
            outcome: Outcome::Dead {
                error: attempt_error(1, "x"),
            },
        }])
        .await
        .unwrap();
    assert!(backend.job_retry(ids[0]).await.unwrap());
    let retried = backend.job_get(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (retried.state, retried.max_attempts, retried.finished_at),
        (JobState::Available, 2, None)
    );
    assert!(
        !backend.job_retry(ids[0]).await.unwrap(),
        "already available"
    );
    assert!(!backend.job_retry(JobId::new(i64::MAX)).await.unwrap());

    assert!(backend.job_delete(ids[2]).await.unwrap());
    assert!(!backend.job_delete(ids[2]).await.unwrap());
    assert!(backend.job_get(ids[2]).await.unwrap().is_none());

    let filter = jobs_core::JobFilter::new().state(JobState::Cancelled);
    let cancelled = backend.job_list(&filter).await.unwrap();
    assert_eq!(cancelled.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[1]]);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn backend_is_a_cheap_shared_handle() {
    fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    assert_traits::<PgBackend>();
    let backend = fresh_backend().await;
    let shared: Arc<dyn Backend> = Arc::new(backend.clone());
    let id = shared
        .job_insert_many(vec![job("a")], InsertMode::Try)
        .await
        .unwrap()[0];
    assert_eq!(state_of(&backend, id).await, JobState::Available);
    assert!(format!("{backend:?}").contains(backend.schema()));
    drop_schema(&backend).await;
}
