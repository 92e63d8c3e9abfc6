//! The quickstart: jobs on the in-memory backend, no set-up.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Enqueues a fire-and-forget job, a delayed one and one that always fails
//! (retried, then dead with its error history), runs a recurring job every
//! two seconds, prints every job's final state and exits by itself (or
//! earlier, gracefully, on Ctrl-C or SIGTERM).

use std::time::Duration;

use jobs_core::prelude::*;
use jobs_core::{JobFilter, JobInfo};
use jobs_memory::MemoryBackend;

#[derive(Clone)]
struct Mailer {
    from: &'static str,
}

/// Fire and forget.
#[job(queue = "mail")]
async fn send_welcome_email(
    mailer: State<Mailer>,
    user_id: i64,
    template: String,
) -> anyhow::Result<()> {
    println!(
        "  [mail] {} sends {template:?} to user {user_id}",
        mailer.from
    );
    Ok(())
}

/// Runs two seconds after it is enqueued.
#[job(queue = "mail")]
async fn send_reminder(user_id: i64) {
    println!("  [mail] reminder for user {user_id}");
}

/// Always fails: two retries 200 ms apart, then `Dead`.
#[job(retries = 2, backoff = "fixed", backoff_base = "200ms")]
async fn charge_card(ctx: JobContext, order_id: i64) -> Result<(), String> {
    println!(
        "  [billing] charging order {order_id}, attempt {}",
        ctx.attempt()
    );
    Err(format!("card declined for order {order_id}"))
}

/// Every two seconds.
#[recurring(cron = "*/2 * * * * *", id = "quickstart-report")]
async fn periodic_report() {
    println!("  [report] recurring report");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let worker = Worker::builder(backend)
        .state(Mailer {
            from: "hello@example.com",
        })
        .queue("default", 4)
        .queue("mail", 2)
        .build()?;

    let welcome = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
    let reminder = send_reminder::schedule(&client, Duration::from_secs(2), 42).await?;
    let charge = charge_card::enqueue(&client, 1001).await?;
    println!("enqueued jobs {welcome}, {reminder} (in 2 s) and {charge}");

    // A service runs `worker.run_until(jobs_core::shutdown_signal())`: until
    // Ctrl-C or SIGTERM, then a graceful shutdown. The quickstart also stops
    // once its jobs are done.
    let mut waited = Ok(());
    worker
        .run_until(async {
            tokio::select! {
                () = jobs_core::shutdown_signal() => println!("asked to stop: shutting down"),
                result = all_finished(&client, [welcome, reminder, charge]) => waited = result,
            }
        })
        .await?;
    waited?;

    println!("\nfinal states:");
    for id in [welcome, reminder, charge] {
        if let Some(job) = client.job(id).await? {
            print_job(&job);
        }
    }
    for job in client
        .list(JobFilter::new().kind(periodic_report::NAME))
        .await?
    {
        print_job(&job);
    }
    Ok(())
}

/// Until `ids` have finished and the recurring job ran twice, or 8 s.
async fn all_finished(client: &Client, ids: [JobId; 3]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    loop {
        let mut finished = 0;
        for id in ids {
            if client
                .job(id)
                .await?
                .is_some_and(|job| job.state.is_finished())
            {
                finished += 1;
            }
        }
        let reports = client
            .list(
                JobFilter::new()
                    .kind(periodic_report::NAME)
                    .state(JobState::Completed),
            )
            .await?;
        if (finished == ids.len() && reports.len() >= 2) || tokio::time::Instant::now() >= deadline
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_job(job: &JobInfo) {
    println!(
        "  job {:>2} {:<20} {:<9} after {} attempt(s)",
        job.id, job.kind, job.state, job.attempt
    );
    for error in &job.errors {
        println!(
            "         attempt {} failed at {}: {}",
            error.attempt,
            error.at.format("%H:%M:%S%.3f"),
            error.message
        );
    }
}
