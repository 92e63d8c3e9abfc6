//! Waiting for asynchronous outcomes without fixed sleeps.

use std::future::Future;
use std::time::Duration;

use crate::{Client, JobId, JobInfo, JobState};

/// How long a case waits for something that should happen promptly.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `check` every 10 ms until it returns `true`.
///
/// # Panics
///
/// If it is still `false` after 20 s: the behaviour under test did not
/// happen.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until job `id` is in `state`, and returns it.
///
/// # Panics
///
/// If the job does not exist or does not reach `state` within 20 s.
pub async fn wait_for_state(client: &Client, id: JobId, state: JobState) -> JobInfo {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let info = client
            .job(id)
            .await
            .expect("backend answers")
            .expect("job exists");
        if info.state == state {
            return info;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for job {id} to be {state}; it is {}: {info:#?}",
            info.state
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
