//! Workflows on the in-memory backend: continuations and a batch.
//!
//! ```text
//! cargo run --example workflows
//! ```
//!
//! An order is charged; the receipt is sent only if the charge completed,
//! and the stock is released once the charge finished, whatever its
//! outcome. A second order's charge fails for good, so its receipt is
//! cancelled in cascade while its stock is still released. Then three
//! images are resized as one batch, with a notification once all of them
//! completed and a clean-up once all of them finished.

use std::time::Duration;

use jobs_core::prelude::*;
use jobs_core::{Batch, BatchInfo};
use jobs_memory::MemoryBackend;

/// Fails for good for odd order ids.
#[job(retries = 0)]
async fn charge_card(order_id: i64) -> Result<(), JobError> {
    if order_id % 2 == 1 {
        return Err(JobError::permanent(format!(
            "card declined for order {order_id}"
        )));
    }
    println!("  [billing] charged order {order_id}");
    Ok(())
}

#[job]
async fn send_receipt(order_id: i64) {
    println!("  [mail] receipt for order {order_id}");
}

#[job]
async fn release_stock(order_id: i64) {
    println!("  [stock] released the reservation of order {order_id}");
}

#[job]
async fn resize_image(image_id: i64) {
    tokio::time::sleep(Duration::from_millis(50 * image_id as u64)).await;
    println!("  [media] resized image {image_id}");
}

#[job]
async fn notify_user(user_id: i64) {
    println!("  [mail] all images of user {user_id} are ready");
}

#[job]
async fn cleanup_uploads(user_id: i64) {
    println!("  [media] cleaned up the uploads of user {user_id}");
}

/// Waits until `id` is finished, and returns it.
async fn finished(client: &Client, id: JobId) -> anyhow::Result<jobs_core::JobInfo> {
    for _ in 0..500 {
        if let Some(job) = client.job(id).await?
            && job.state.is_finished()
        {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("job {id} did not finish")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());

    let mut receipts = Vec::new();
    let mut releases = Vec::new();
    for order_id in [2, 3] {
        let charge = charge_card::enqueue(&client, order_id).await?;
        receipts.push(
            send_receipt::with(order_id)
                .after(charge)
                .enqueue(&client)
                .await?,
        );
        releases.push(
            release_stock::with(order_id)
                .after_finished(charge)
                .enqueue(&client)
                .await?,
        );
    }
    let batch = Batch::new()
        .jobs((1..=3).map(resize_image::with))
        .on_success(notify_user::with(42))
        .on_complete(cleanup_uploads::with(42))
        .enqueue(&client)
        .await?;
    println!(
        "stored: receipt of order 2 is {}, batch {batch} waits on {} jobs",
        client
            .job(receipts[0])
            .await?
            .map_or(JobState::Dead, |job| job.state),
        client.batch(batch).await?.map_or(0, |info| info.pending),
    );

    let worker = Worker::builder(backend)
        .queue("default", 4)
        .build()?
        .start();
    for &id in receipts.iter().chain(&releases) {
        let job = finished(&client, id).await?;
        let why = job
            .errors
            .last()
            .map(|error| error.message.as_str())
            .unwrap_or("");
        println!("job {id} ({}): {} {why}", job.kind, job.state);
    }
    let info: BatchInfo = client.batch(batch).await?.expect("the batch is stored");
    if let Some(cleanup) = info.on_complete {
        finished(&client, cleanup).await?;
    }
    let info = client.batch(batch).await?.expect("the batch is stored");
    println!(
        "batch {batch}: {} of {} completed, finished: {}",
        info.completed,
        info.total,
        info.finished_at.is_some()
    );
    worker.shutdown().await;
    Ok(())
}
