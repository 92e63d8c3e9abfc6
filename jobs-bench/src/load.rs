//! Filling a queue before a drain: `enqueue_many` in batches.

use jobs_core::{Client, JobBuilder};

/// Stores `jobs` jobs made by `make` with `enqueue_many`, `batch` at a time.
pub(crate) async fn load(
    client: &Client,
    jobs: usize,
    batch: usize,
    make: impl Fn(usize) -> JobBuilder,
) -> Result<(), String> {
    let mut next = 0;
    while next < jobs {
        let end = (next + batch).min(jobs);
        let builders: Vec<_> = (next..end).map(&make).collect();
        client
            .enqueue_many(builders)
            .await
            .map_err(|e| format!("load jobs: {e}"))?;
        next = end;
    }
    Ok(())
}
