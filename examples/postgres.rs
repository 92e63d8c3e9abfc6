//! The quickstart on PostgreSQL: durable jobs, a job enqueued in the same
//! transaction as the row it belongs to, retries, a recurring job.
//!
//! ```text
//! DATABASE_URL=postgres://user:pass@localhost/app cargo run --example postgres
//! ```
//!
//! Creates (or upgrades) the `jobs` schema, enqueues jobs, runs a worker
//! until they are done (or Ctrl-C or SIGTERM), prints every job's final
//! state and exits.

use std::time::Duration;

use jobs_core::prelude::*;
use jobs_core::{JobFilter, JobInfo};
use jobs_postgres::prelude::*;
use jobs_postgres::sqlx;

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

/// Enqueued in the transaction that stores the order.
#[job]
async fn ship_order(order_id: i64) {
    println!("  [shipping] order {order_id} ships");
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

/// Every two seconds, once however many workers run.
#[recurring(cron = "*/2 * * * * *", id = "postgres-example-report")]
async fn periodic_report() {
    println!("  [report] recurring report");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| {
        anyhow::anyhow!("set DATABASE_URL, for example postgres://user:pass@localhost/app")
    })?;
    let backend = PgBackend::connect(&url).await?;
    backend.migrate().await?;
    let client = Client::new(backend.clone());

    let welcome = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
    let charge = charge_card::enqueue(&client, 1001).await?;

    // The order row and its job commit together, or neither exists.
    let pool = backend.pool();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS example_orders (id bigserial PRIMARY KEY, item text NOT NULL)",
    )
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let order: i64 =
        sqlx::query_scalar("INSERT INTO example_orders (item) VALUES ('book') RETURNING id")
            .fetch_one(&mut *tx)
            .await?;
    let ship = ship_order::with(order).enqueue_tx(&mut tx).await?;
    tx.commit().await?;
    let mut tx = pool.begin().await?;
    let abandoned = ship_order::with(-1).enqueue_tx(&mut tx).await?;
    tx.rollback().await?;
    println!(
        "enqueued jobs {welcome}, {charge} and {ship} (order {order}); job {abandoned} was rolled back: {}",
        if client.job(abandoned).await?.is_none() {
            "it does not exist"
        } else {
            "it exists?!"
        }
    );

    let worker = Worker::builder(backend)
        .state(Mailer {
            from: "hello@example.com",
        })
        .queue("default", 4)
        .queue("mail", 2)
        .only(&[
            send_welcome_email::NAME,
            ship_order::NAME,
            charge_card::NAME,
            periodic_report::NAME,
        ])
        .build()?;

    // A service runs `worker.run_until(jobs_core::shutdown_signal())`: until
    // Ctrl-C or SIGTERM, then a graceful shutdown that gives running jobs
    // back. The example also stops once its jobs are done.
    let mut waited = Ok(());
    worker
        .run_until(async {
            tokio::select! {
                () = jobs_core::shutdown_signal() => println!("asked to stop: shutting down"),
                result = all_finished(&client, [welcome, charge, ship]) => waited = result,
            }
        })
        .await?;
    waited?;

    println!("\nfinal states:");
    for id in [welcome, charge, ship] {
        if let Some(job) = client.job(id).await? {
            print_job(&job);
        }
    }
    for job in client
        .list(JobFilter::new().kind(periodic_report::NAME))
        .await?
        .iter()
        .rev()
        .take(3)
    {
        print_job(job);
    }
    Ok(())
}

/// Until `ids` have finished and the recurring job ran, or 15 s.
async fn all_finished(client: &Client, ids: [JobId; 3]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
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
        if (finished == ids.len() && !reports.is_empty()) || tokio::time::Instant::now() >= deadline
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_job(job: &JobInfo) {
    println!(
        "  job {:>4} {:<20} {:<9} after {} attempt(s)",
        job.id, job.kind, job.state, job.attempt
    );
    for error in &job.errors {
        println!(
            "           attempt {} failed at {}: {}",
            error.attempt,
            error.at.format("%H:%M:%S%.3f"),
            error.message
        );
    }
}
