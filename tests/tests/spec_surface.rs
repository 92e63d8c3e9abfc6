//! The user's contract, written the way SPEC.md shows it: every public
//! name of §2–§5 and §13 used as a new user would, then run on the memory
//! backend.

use std::fmt;
use std::time::Duration;

use jobs_core::prelude::*;
use jobs_core::{AttemptError, DrainReport, EnqueueError, JobFilter, JobInfo};
use jobs_memory::MemoryBackend;

#[derive(Clone)]
struct App {
    mailer: Mailer,
}

#[derive(Clone)]
struct Mailer;

#[derive(Debug)]
struct MailError;

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mail server said no")
    }
}

impl Mailer {
    async fn send(&self, user_id: i64, template: &str) -> Result<(), MailError> {
        if template == "broken" {
            Err(MailError)
        } else {
            let _ = user_id;
            Ok(())
        }
    }
}

#[job(retries = 3, backoff = "exponential", queue = "critical")]
async fn send_welcome_email(
    app: State<App>,
    user_id: i64,
    template: String,
) -> Result<(), MailError> {
    app.mailer.send(user_id, &template).await
}

#[job]
async fn other_job(order_id: i64) -> Result<(), JobError> {
    if order_id < 0 {
        return Err(JobError::permanent("negative order id"));
    }
    Ok(())
}

static SNOOZED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[job(queue = "critical")]
async fn steering(ctx: JobContext, what: String) -> Result<(), JobError> {
    assert_eq!(ctx.attempt(), 1, "a snooze does not use up an attempt");
    match what.as_str() {
        "snooze" if !SNOOZED.swap(true, std::sync::atomic::Ordering::SeqCst) => {
            Err(JobError::snooze(Duration::from_millis(10)))
        }
        "cancel" => Err(JobError::cancel("not needed any more")),
        _ => Ok(()),
    }
}

#[recurring(cron = "0 0 2 * * *", id = "nightly-report", tz = "Europe/Berlin")]
async fn nightly_report(app: State<App>) -> anyhow::Result<()> {
    let _ = &app.mailer;
    Ok(())
}

async fn wait_finished(client: &Client, id: JobId) -> JobInfo {
    for _ in 0..2_000 {
        let job = client.job(id).await.unwrap().expect("stored");
        if job.finished_at.is_some() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("job {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_as_a_user_writes_it() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MemoryBackend::new();
    let _bounded = MemoryBackend::with_capacity(10_000);
    let client = Client::new(backend.clone());

    let id: JobId = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
    let later = send_welcome_email::schedule(
        &client,
        Duration::from_secs(3 * 86_400),
        42,
        "reminder".into(),
    )
    .await?;
    let at = chrono::Utc::now() + chrono::Duration::days(1);
    let at_time = send_welcome_email::schedule(&client, at, 42, "reminder".into()).await?;
    let built = send_welcome_email::with(42, "welcome".into())
        .delay(Duration::from_secs(60))
        .priority(-5)
        .queue("critical")
        .unique_key("welcome-42")
        .enqueue(&client)
        .await?;
    let _at_builder = send_welcome_email::with(7, "x".into())
        .at(at)
        .enqueue(&client)
        .await?;
    let broken = send_welcome_email::enqueue(&client, 1, "broken".into()).await?;
    assert_eq!(send_welcome_email::NAME, "send_welcome_email");
    let many: Vec<JobId> = client
        .enqueue_many(vec![
            send_welcome_email::with(1, "a".into()),
            other_job::with(5),
            other_job::with(-1),
        ])
        .await?;
    assert_eq!(many.len(), 3);
    let snoozer = steering::enqueue(&client, "snooze".into()).await?;
    let canceller = steering::enqueue(&client, "cancel".into()).await?;

    let worker = Worker::builder(backend.clone())
        .state(App { mailer: Mailer })
        .queue("critical", 10)
        .queue("default", 5)
        .shutdown_timeout(Duration::from_secs(30))
        .build()?;
    let handle = worker.start();
    let triggered = nightly_report::trigger(&client).await?;

    let sent: JobInfo = wait_finished(&client, id).await;
    assert_eq!(sent.state, JobState::Completed);
    assert_eq!(
        (sent.kind.as_str(), sent.queue.as_str()),
        ("send_welcome_email", "critical")
    );
    assert_eq!(
        sent.args,
        serde_json::json!({"user_id": 42, "template": "welcome"})
    );
    assert_eq!((sent.attempt, sent.max_attempts), (1, 4));
    assert!(sent.created_at <= sent.scheduled_at && sent.finished_at.is_some());
    assert_eq!(
        wait_finished(&client, many[1]).await.state,
        JobState::Completed
    );
    let dead = wait_finished(&client, many[2]).await;
    assert_eq!(dead.state, JobState::Dead);
    let AttemptError {
        attempt,
        message,
        at: _,
    } = &dead.errors[0];
    assert_eq!((*attempt, message.as_str()), (1, "negative order id"));
    assert_eq!(
        wait_finished(&client, snoozer).await.state,
        JobState::Completed
    );
    assert_eq!(
        wait_finished(&client, canceller).await.state,
        JobState::Cancelled
    );
    assert_eq!(
        wait_finished(&client, triggered).await.state,
        JobState::Completed
    );

    // the failing mail job is retried with exponential backoff: Retryable after its first attempt
    let mut retrying = client.job(broken).await?.expect("stored");
    for _ in 0..400 {
        if retrying.state == JobState::Retryable {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        retrying = client.job(broken).await?.expect("stored");
    }
    assert_eq!(retrying.state, JobState::Retryable);
    assert_eq!(retrying.errors[0].message, "mail server said no");
    handle.shutdown().await;

    // admin
    assert_eq!(
        client.job(later).await?.map(|job| job.state),
        Some(JobState::Scheduled)
    );
    assert!(client.cancel(later).await?);
    assert!(client.retry(later).await?, "a cancelled job runs again");
    assert!(client.delete(at_time).await?);
    assert!(client.job(at_time).await?.is_none());
    let critical = client
        .list(
            JobFilter::new()
                .queue("critical")
                .state(JobState::Scheduled),
        )
        .await?;
    assert!(critical.iter().any(|job| job.id == built));
    let counts = client.counts().await?;
    assert!(counts.get("critical", JobState::Completed) >= 2);
    assert!(!client.remove_schedule("no-such-schedule").await?);
    assert!(
        client.remove_schedule("nightly-report").await?,
        "the worker stored the schedule"
    );

    // a full memory backend: try_enqueue says so, nothing is stored
    let full = MemoryBackend::with_capacity(1);
    let full_client = Client::new(full.clone());
    other_job::enqueue(&full_client, 1).await?;
    match other_job::try_enqueue(&full_client, 2).await {
        Err(EnqueueError::QueueFull { capacity }) => assert_eq!(capacity, 1),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert_eq!(full.len(), 1);
    Ok(())
}

/// `run_until` with a signal, as a binary's `main` would use it.
#[tokio::test]
async fn run_until_a_signal_shuts_down() -> Result<(), Box<dyn std::error::Error>> {
    let worker = Worker::builder(MemoryBackend::new())
        .state(App { mailer: Mailer })
        .build()?;
    worker
        .run_until(tokio::time::sleep(Duration::from_millis(50)))
        .await?;
    Ok(())
}

/// The code under test of §13: a sign-up that enqueues the welcome mail.
async fn sign_up(client: &Client, email: &str) -> Result<(), EnqueueError> {
    let _ = email;
    send_welcome_email::enqueue(client, 42, "welcome".into()).await?;
    Ok(())
}

/// §13 as written there, with the §2 job (on its `"critical"` queue, which
/// a worker built without queues drains too).
#[tokio::test]
async fn testing_your_own_code() -> Result<(), Box<dyn std::error::Error>> {
    let app = App { mailer: Mailer };
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    sign_up(&client, "ada@example.com").await?; // code under test enqueues

    let pending: Vec<(i64, String)> = send_welcome_email::enqueued(&client).await?;
    assert_eq!(pending, vec![(42, "welcome".to_string())]);

    let report: DrainReport = Worker::builder(backend).state(app).build()?.drain().await?;
    assert_eq!(report.completed, 1);
    assert!(send_welcome_email::enqueued(&client).await?.is_empty());
    Ok(())
}

#[job]
async fn charge_card(order_id: i64) -> Result<(), JobError> {
    if order_id < 0 {
        return Err(JobError::permanent("declined"));
    }
    Ok(())
}

#[job]
async fn send_receipt(order_id: i64) {
    let _ = order_id;
}

#[job]
async fn release_stock(order_id: i64) {
    let _ = order_id;
}

#[job]
async fn resize_image(image_id: i64) {
    let _ = image_id;
}

#[job]
async fn notify_user(user_id: i64) {
    let _ = user_id;
}

#[job]
async fn cleanup(upload_id: i64) {
    let _ = upload_id;
}

/// §10 as written there: continuations and a batch, run by `drain`.
#[tokio::test]
async fn workflows_as_a_user_writes_them() -> Result<(), Box<dyn std::error::Error>> {
    use jobs_core::{Batch, BatchId, BatchInfo};

    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let order_id = 7;
    let charge = charge_card::enqueue(&client, order_id).await?;
    let receipt = send_receipt::with(order_id)
        .after(charge)
        .enqueue(&client)
        .await?;
    let release = release_stock::with(order_id)
        .after_finished(charge)
        .enqueue(&client)
        .await?;
    assert_eq!(
        client.job(receipt).await?.map(|job| job.state),
        Some(JobState::Awaiting)
    );
    let declined = charge_card::enqueue(&client, -1).await?;
    let never = send_receipt::with(-1)
        .after(declined)
        .enqueue(&client)
        .await?;

    let batch: BatchId = Batch::new()
        .job(resize_image::with(1))
        .job(resize_image::with(2))
        .on_success(notify_user::with(42))
        .on_complete(cleanup::with(7))
        .enqueue(&client)
        .await?;
    let info: Option<BatchInfo> = client.batch(batch).await?;
    assert_eq!(info.map(|info| (info.total, info.pending)), Some((2, 2)));

    // an awaiting job is enqueued and not yet started
    assert_eq!(send_receipt::enqueued(&client).await?, vec![order_id, -1]);
    let unknown = JobId::new(i64::MAX);
    let refused = send_receipt::with(1).after(unknown).enqueue(&client).await;
    assert!(matches!(refused, Err(EnqueueError::UnknownParent(id)) if id == unknown));

    let report = Worker::builder(backend)
        .state(App { mailer: Mailer })
        .build()?
        .drain()
        .await?;
    assert_eq!(report.completed, 7, "{report:?}");
    for id in [charge, receipt, release] {
        let job: JobInfo = client.job(id).await?.expect("stored");
        assert_eq!(job.state, JobState::Completed, "job {id}");
    }
    let never = client.job(never).await?.expect("stored");
    assert_eq!(never.state, JobState::Cancelled);
    assert_eq!(never.parents, vec![declined]);
    let info = client.batch(batch).await?.expect("stored");
    assert_eq!((info.completed, info.pending), (2, 0));
    assert!(info.finished_at.is_some());
    let members = client.list(JobFilter::new().batch(batch)).await?;
    assert!(members.iter().all(|job| job.batch == Some(batch)));
    Ok(())
}

#[job]
async fn tenant_report(tenant_id: i64) -> anyhow::Result<()> {
    let _ = tenant_id;
    Ok(())
}

/// §3's run-time schedules as written there: `Misfire` comes from the
/// prelude, `Schedule` from the crate root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_from_data_at_run_time() -> Result<(), Box<dyn std::error::Error>> {
    use jobs_core::Schedule;

    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    client
        .upsert_schedule(
            Schedule::new("tenant-7-report", "0 0 6 * * *") // id, cron
                .tz("Europe/Berlin")
                .misfire(Misfire::Skip)
                .job(tenant_report::with(7)), // any #[job], with its arguments
        )
        .await?;
    let listed = client.schedules().await?;
    let stored = listed
        .iter()
        .find(|schedule| schedule.id == "tenant-7-report")
        .expect("listed");
    assert_eq!(
        (stored.kind.as_str(), stored.tz.as_str(), stored.misfire),
        (
            tenant_report::NAME,
            "Europe/Berlin",
            jobs_core::Misfire::Skip
        )
    );
    assert!(stored.orphaned, "no live worker runs `tenant_report` yet");

    // a live worker that runs the kind vouches for it
    let worker = Worker::builder(backend)
        .only(&[tenant_report::NAME])
        .build()?
        .start();
    let mut vouched = false;
    for _ in 0..2_000 {
        let listed = client.schedules().await?;
        if listed
            .iter()
            .any(|schedule| schedule.id == "tenant-7-report" && !schedule.orphaned)
        {
            vouched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(vouched, "the worker running `tenant_report` vouches for it");

    // the attribute's checks, at run time
    let five_fields = client
        .upsert_schedule(Schedule::new("tenant-8-report", "0 6 * * *").job(tenant_report::with(8)))
        .await
        .unwrap_err();
    assert!(matches!(
        five_fields,
        jobs_core::Error::InvalidSchedule { .. }
    ));
    assert!(
        five_fields.to_string().contains("0 0 6 * * *"),
        "{five_fields}"
    );

    assert!(client.remove_schedule("tenant-7-report").await?);
    worker.shutdown().await;
    Ok(())
}
