//! SPEC §11 as a user writes it: the flow-control keys, pausing a queue and
//! listing queues, on the memory backend; and the key each enqueue stores.

use jobs_core::prelude::*;
use jobs_core::{DEFAULT_MAX_PAYLOAD, QueueInfo};
use jobs_memory::MemoryBackend;

#[job(concurrency = 1, concurrency_key = "account_id")] // one sync per account at a time
async fn sync_account(account_id: i64) -> anyhow::Result<()> {
    let _ = account_id;
    Ok(())
}

#[job(rate_limit = "100/1m", queue = "mailer")] // at most 100 starts in any minute
async fn send_newsletter(user_id: i64) -> anyhow::Result<()> {
    let _ = user_id;
    Ok(())
}

#[job(concurrency = 2, concurrency_key = "tenant")]
async fn import_file(path: String, tenant: String) {
    let _ = (path, tenant);
}

#[tokio::test]
async fn pause_resume_and_list_queues() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());

    client.pause_queue("mailer").await?; // every worker stops starting jobs of this queue
    send_newsletter::enqueue(&client, 7).await?; // still accepted
    sync_account::enqueue(&client, 42).await?;
    let queues: Vec<QueueInfo> = client.queues().await?;
    let listed: Vec<(&str, bool)> = queues.iter().map(|q| (q.name.as_str(), q.paused)).collect();
    assert_eq!(listed, [("default", false), ("mailer", true)]);

    let report = Worker::builder(backend.clone()).build()?.drain().await?;
    assert_eq!(report.completed, 1, "only the job of the running queue");

    client.resume_queue("mailer").await?;
    let report = Worker::builder(backend).build()?.drain().await?;
    assert_eq!(report.completed, 1, "the newsletter, once resumed");
    assert!(!client.queues().await?.iter().any(|queue| queue.paused));
    Ok(())
}

#[test]
fn each_job_stores_its_key_arguments_json() -> Result<(), Box<dyn std::error::Error>> {
    let job = sync_account::with(42).into_new_job(DEFAULT_MAX_PAYLOAD)?;
    assert_eq!(job.concurrency_key.as_deref(), Some("42"));
    let job = import_file::with("a.csv".into(), "acme".into()).into_new_job(DEFAULT_MAX_PAYLOAD)?;
    assert_eq!(job.concurrency_key.as_deref(), Some("\"acme\""));
    let job = send_newsletter::with(7).into_new_job(DEFAULT_MAX_PAYLOAD)?;
    assert_eq!(job.concurrency_key, None, "not keyed");
    Ok(())
}
