//! Writing outcomes: a started worker keeps two completion statements in
//! flight where its pool has room for them, one on a small pool, and
//! stores every outcome either way.

use std::time::{Duration, Instant};

use jobs_core::backend::Backend;
use jobs_core::{Client, JobState, Worker};
use jobs_postgres::PgBackend;

use crate::common::{database_url, drop_schema, fresh_backend};

#[jobs_core::job(name = "outcome_noop", queue = "outcomes")]
async fn outcome_noop(n: u32) -> Result<(), String> {
    let _ = n;
    Ok(())
}

const JOBS: u64 = 2_000;

#[tokio::test]
async fn every_outcome_is_stored_with_one_or_two_batches_in_flight() {
    let roomy = fresh_backend().await;
    let small = PgBackend::builder()
        .schema(roomy.schema())
        .max_connections(2)
        .connect(&database_url())
        .await
        .expect("connect to DATABASE_URL");
    assert_eq!(roomy.completion_writers(), 2, "a pool of six connections");
    assert_eq!(small.completion_writers(), 1, "a pool of two connections");

    let mut completed = 0;
    for backend in [roomy.clone(), small] {
        let client = Client::new(backend.clone());
        let jobs = (0..JOBS as u32).map(outcome_noop::with).collect();
        client.enqueue_many(jobs).await.expect("enqueue");
        completed += JOBS;
        let worker = Worker::builder(backend.clone())
            .queue("outcomes", 16)
            .only(&[outcome_noop::NAME])
            .build()
            .expect("build")
            .start();
        let deadline = Instant::now() + Duration::from_secs(60);
        let counts = loop {
            let counts = client.counts().await.expect("counts");
            if counts.get("outcomes", JobState::Completed) >= completed || Instant::now() > deadline
            {
                break counts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        worker.shutdown().await;
        assert_eq!(counts.get("outcomes", JobState::Completed), completed);
        let after = client.counts().await.expect("counts");
        assert_eq!(after.get("outcomes", JobState::Running), 0);
        assert_eq!(after.get("outcomes", JobState::Available), 0);
    }
    drop_schema(&roomy).await;
}
