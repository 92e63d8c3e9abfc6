//! `Worker::drain` on PostgreSQL: the test kit claims and records through
//! the backend as a started worker does.

use jobs_core::{Client, DrainReport, EnqueueError, JobState, State, Worker};

use crate::common::{drop_schema, fresh_backend};
use crate::state_of;

/// Enqueues the next step until `left` is zero.
#[jobs_core::job(name = "drain_step", queue = "drain")]
async fn drain_step(client: State<Client>, left: u32) -> Result<(), EnqueueError> {
    if left > 0 {
        drain_step::enqueue(&client, left - 1).await?;
    }
    Ok(())
}

#[jobs_core::job(
    name = "drain_fail",
    queue = "drain",
    retries = 1,
    backoff = "fixed",
    backoff_base = "1h"
)]
async fn drain_fail() -> Result<(), String> {
    Err("not today".to_owned())
}

#[tokio::test]
async fn drain_runs_due_jobs_and_the_jobs_they_enqueue() {
    let backend = fresh_backend().await;
    let client = Client::new(backend.clone());
    drain_step::enqueue(&client, 2).await.expect("enqueue");
    let failing = drain_fail::enqueue(&client).await.expect("enqueue");
    assert_eq!(drain_step::enqueued(&client).await.expect("list"), vec![2]);

    let report = Worker::builder(backend.clone())
        .state(client.clone())
        .queue("drain", 2)
        .only(&[drain_step::NAME, drain_fail::NAME])
        .build()
        .expect("build")
        .drain()
        .await
        .expect("drain");
    assert_eq!(
        report,
        DrainReport {
            completed: 3,
            retried: 1,
            ..DrainReport::default()
        }
    );
    assert!(
        drain_step::enqueued(&client)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        drain_fail::enqueued(&client)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(state_of(&backend, failing).await, JobState::Retryable);
    drop_schema(&backend).await;
}
