//! The test kit of SPEC §13 on the memory backend: `NAME::enqueued` reads
//! back what code under test enqueued, typed; `Worker::drain` runs what is
//! due in the test's own task and says how each run ended.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use jobs_core::backend::{InsertMode, JobFetchParams, JobInsertManyParams, NewJob};
use jobs_core::{
    Client, Clock, DrainReport, JobContext, JobError, JobFilter, JobId, JobState, ManualClock,
    State, Worker, job,
};
use jobs_memory::MemoryBackend;

#[job]
async fn ping() {}

#[job]
async fn resize(_image_id: i64) {}

#[job]
async fn mail(_user_id: i64, _template: String) {}

/// Enqueues the next step until `left` is zero.
#[job]
async fn countdown(client: State<Client>, left: u32) -> Result<(), jobs_core::EnqueueError> {
    if left > 0 {
        countdown::enqueue(&client, left - 1).await?;
    }
    Ok(())
}

#[job(retries = 2, backoff = "fixed", backoff_base = "1h")]
async fn steer(action: String) -> Result<(), JobError> {
    match action.as_str() {
        "fail" => Err(JobError::failed("not yet")),
        "permanent" => Err(JobError::permanent("never")),
        "cancel" => Err(JobError::cancel("not wanted")),
        "snooze" => Err(JobError::snooze(Duration::from_secs(3600))),
        _ => Ok(()),
    }
}

/// Fails its first attempt.
#[job(retries = 1, backoff = "fixed", backoff_base = "1m")]
async fn flaky_once(context: JobContext) -> Result<(), String> {
    if context.attempt() == 1 {
        return Err("first attempt fails".to_owned());
    }
    Ok(())
}

/// A time far from the real one, so that anything computed from the
/// system clock instead of the test's clock is visibly wrong.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 1, 1, 9, 0, 0)
        .single()
        .expect("a valid time")
}

/// A backend, a client and a clock; the client's delays count from the
/// system clock, so jobs here are enqueued at once or at absolute times.
fn setup() -> (MemoryBackend, Client, ManualClock) {
    let clock = ManualClock::new(start());
    let backend = MemoryBackend::new().clock(clock.clone());
    let client = Client::new(backend.clone());
    (backend, client, clock)
}

/// A worker of every job in this file, on the clock.
fn worker(backend: &MemoryBackend, client: &Client, clock: &ManualClock) -> Worker {
    Worker::builder(backend.clone())
        .state(client.clone())
        .clock(clock.clone())
        .build()
        .expect("the worker builds")
}

/// The test's time, `step` on.
fn later(clock: &ManualClock, step: chrono::Duration) -> DateTime<Utc> {
    clock.now() + step
}

/// Drains a new worker; a drain that does not end fails the test instead
/// of hanging it.
async fn drain(
    backend: &MemoryBackend,
    client: &Client,
    clock: &ManualClock,
) -> anyhow::Result<DrainReport> {
    let drain = worker(backend, client, clock).drain();
    Ok(tokio::time::timeout(Duration::from_secs(10), drain).await??)
}

async fn state_of(client: &Client, id: JobId) -> JobState {
    client
        .job(id)
        .await
        .expect("the backend answers")
        .expect("the job is stored")
        .state
}

#[tokio::test]
async fn enqueued_decodes_typed_arguments_in_enqueue_order() -> anyhow::Result<()> {
    let (_backend, client, clock) = setup();
    ping::enqueue(&client).await?;
    mail::enqueue(&client, 7, "welcome".into()).await?;
    resize::enqueue(&client, 3).await?;
    ping::enqueue(&client).await?;
    // Scheduled between two Available ones: the order is the ids', not
    // the states'
    mail::schedule(
        &client,
        later(&clock, chrono::Duration::hours(1)),
        8,
        "reminder".into(),
    )
    .await?;
    mail::enqueue(&client, 9, "digest".into()).await?;

    let pings: Vec<()> = ping::enqueued(&client).await?;
    assert_eq!(pings, vec![(), ()]);
    let resizes: Vec<i64> = resize::enqueued(&client).await?;
    assert_eq!(resizes, vec![3]);
    let mails: Vec<(i64, String)> = mail::enqueued(&client).await?;
    assert_eq!(
        mails,
        vec![
            (7, "welcome".to_owned()),
            (8, "reminder".to_owned()),
            (9, "digest".to_owned()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn enqueued_leaves_out_started_and_finished_jobs() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    let done = steer::enqueue(&client, "ok".into()).await?;
    let retried = steer::enqueue(&client, "fail".into()).await?;
    let dead = steer::enqueue(&client, "permanent".into()).await?;
    let report = drain(&backend, &client, &clock).await?;
    assert_eq!(report.completed + report.retried + report.dead, 3);
    assert_eq!(state_of(&client, done).await, JobState::Completed);
    assert_eq!(state_of(&client, retried).await, JobState::Retryable);
    assert_eq!(state_of(&client, dead).await, JobState::Dead);

    let running = steer::enqueue(&client, "running".into()).await?;
    let claimed = client
        .backend()
        .job_fetch(JobFetchParams {
            queue: "default",
            kinds: &[steer::NAME],
            versions: &[],
            limit: 1,
            worker_id: "test",
            lease: Duration::from_secs(60),
            flow: None,
        })
        .await
        .map_err(|error| anyhow::anyhow!("fetch: {error}"))?;
    assert_eq!(claimed.jobs.len(), 1);
    assert_eq!(state_of(&client, running).await, JobState::Running);
    let cancelled = steer::enqueue(&client, "cancelled".into()).await?;
    assert!(client.cancel(cancelled).await?);
    steer::schedule(
        &client,
        later(&clock, chrono::Duration::minutes(5)),
        "later".into(),
    )
    .await?;
    steer::enqueue(&client, "now".into()).await?;

    let waiting: Vec<String> = steer::enqueued(&client).await?;
    assert_eq!(waiting, vec!["later".to_owned(), "now".to_owned()]);
    Ok(())
}

#[tokio::test]
async fn enqueued_is_not_capped_by_the_listing_page() -> anyhow::Result<()> {
    let (_backend, client, _clock) = setup();
    let jobs = (0..1_234).map(resize::with).collect();
    client.enqueue_many(jobs).await?;
    let all = resize::enqueued(&client).await?;
    assert_eq!(all, (0..1_234).collect::<Vec<i64>>());
    Ok(())
}

#[tokio::test]
async fn drain_runs_the_jobs_that_jobs_enqueue() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    countdown::enqueue(&client, 3).await?;
    assert_eq!(countdown::enqueued(&client).await?, vec![3]);

    let report = drain(&backend, &client, &clock).await?;
    assert_eq!(
        report,
        DrainReport {
            completed: 4,
            ..DrainReport::default()
        }
    );
    assert!(countdown::enqueued(&client).await?.is_empty());
    let completed = client
        .list(
            JobFilter::new()
                .kind(countdown::NAME)
                .state(JobState::Completed),
        )
        .await?;
    let steps: Vec<_> = completed
        .iter()
        .map(|job| job.args["left"].clone())
        .collect();
    assert_eq!(steps, vec![3, 2, 1, 0]);
    Ok(())
}

#[tokio::test]
async fn drain_counts_each_way_a_run_ends() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    let mut ids = Vec::new();
    for action in ["ok", "fail", "permanent", "cancel", "snooze"] {
        ids.push(steer::enqueue(&client, action.into()).await?);
    }
    let report = drain(&backend, &client, &clock).await?;
    assert_eq!(
        report,
        DrainReport {
            completed: 1,
            retried: 1,
            dead: 1,
            cancelled: 1,
            snoozed: 1,
        }
    );
    let mut states = Vec::new();
    for id in ids {
        states.push(state_of(&client, id).await);
    }
    assert_eq!(
        states,
        [
            JobState::Completed,
            JobState::Retryable,
            JobState::Dead,
            JobState::Cancelled,
            JobState::Scheduled,
        ]
    );

    // nothing is due until the clock moves
    let again = drain(&backend, &client, &clock).await?;
    assert_eq!(again, DrainReport::default());
    Ok(())
}

#[tokio::test]
async fn a_retry_is_due_when_the_clock_moves_past_its_delay() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    let id = flaky_once::enqueue(&client).await?;

    let first = drain(&backend, &client, &clock).await?;
    assert_eq!(
        first,
        DrainReport {
            retried: 1,
            ..DrainReport::default()
        }
    );
    let info = client.job(id).await?.expect("stored");
    assert_eq!(info.state, JobState::Retryable);
    // the delay counts from the worker's clock: 1 min ± 10 % jitter
    let delay = info.scheduled_at - start();
    assert!(
        (54..=66).contains(&delay.num_seconds()),
        "retry after {delay}, not about a minute of the test's clock"
    );
    assert_eq!(info.errors.len(), 1);
    assert_eq!(info.errors[0].at, start());

    // 50 s on, the retry is not due yet
    clock.advance(chrono::Duration::seconds(50));
    let early = drain(&backend, &client, &clock).await?;
    assert_eq!(early, DrainReport::default());
    assert_eq!(state_of(&client, id).await, JobState::Retryable);

    clock.advance(chrono::Duration::seconds(20));
    let second = drain(&backend, &client, &clock).await?;
    assert_eq!(
        second,
        DrainReport {
            completed: 1,
            ..DrainReport::default()
        }
    );
    assert_eq!(state_of(&client, id).await, JobState::Completed);
    Ok(())
}

#[tokio::test]
async fn a_scheduled_job_is_due_when_the_clock_reaches_it() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    let id = resize::schedule(&client, later(&clock, chrono::Duration::hours(2)), 5).await?;

    let early = drain(&backend, &client, &clock).await?;
    assert_eq!(early, DrainReport::default());
    assert_eq!(resize::enqueued(&client).await?, vec![5]);

    clock.advance(chrono::Duration::hours(2));
    let report = drain(&backend, &client, &clock).await?;
    assert_eq!(report.completed, 1);
    assert_eq!(state_of(&client, id).await, JobState::Completed);
    assert!(resize::enqueued(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn drain_keeps_to_the_queues_a_worker_was_given() -> anyhow::Result<()> {
    let (backend, client, clock) = setup();
    resize::enqueue(&client, 1).await?;
    let elsewhere = Worker::builder(backend.clone())
        .state(client.clone())
        .clock(clock.clone())
        .queue("elsewhere", 1)
        .build()?;
    assert_eq!(elsewhere.drain().await?, DrainReport::default());
    assert_eq!(resize::enqueued(&client).await?, vec![1]);
    Ok(())
}

#[tokio::test]
async fn enqueued_names_a_job_whose_arguments_no_longer_decode() -> anyhow::Result<()> {
    let (_backend, client, _clock) = setup();
    resize::enqueue(&client, 1).await?;
    // as stored by an older binary, whose argument was a string
    let stale = NewJob {
        kind: Cow::Borrowed(resize::NAME),
        queue: Cow::Borrowed("default"),
        args: r#"{"_image_id":"seven"}"#.to_owned(),
        priority: 0,
        max_attempts: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
        version: 1,
    };
    let ids = client
        .backend()
        .job_insert_many(JobInsertManyParams {
            jobs: vec![stale],
            mode: InsertMode::Wait,
        })
        .await
        .map_err(|error| anyhow::anyhow!("insert: {error}"))?;
    match resize::enqueued(&client).await {
        Err(jobs_core::Error::Arguments { id, message }) => {
            assert_eq!(Some(&id), ids.first());
            assert!(message.contains("_image_id"), "{message}");
        }
        other => panic!("expected an arguments error, got {other:?}"),
    }
    Ok(())
}
