//! Bulk enqueue: `enqueue_many` in batches, one after another.

use std::time::Instant;

use jobs_core::Client;

use super::{Pg, Result};
use crate::jobs::noop;
use crate::report::{Report, Target};
use crate::workloads::Sizes;

pub(crate) async fn bulk_enqueue(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let jobs = sizes.pg_bulk_jobs;
    let batch = sizes.pg_bulk_batch;
    let schema = "bench_bulk";
    let backend = pg.fresh(schema).await?;
    let client = Client::new(backend.clone());
    let started = Instant::now();
    let mut next = 0;
    while next < jobs {
        let end = (next + batch).min(jobs);
        let builders: Vec<_> = (next..end).map(|_| noop::with()).collect();
        client
            .enqueue_many(builders)
            .await
            .map_err(|e| format!("enqueue_many: {e}"))?;
        next = end;
    }
    let elapsed = started.elapsed();
    backend.pool().close().await;
    pg.drop_schema(schema).await?;
    let mut report = Report::new("pg-enqueue-bulk", "postgres")
        .setup("jobs", jobs)
        .setup("batch", batch);
    report.figure(
        "enqueue",
        jobs as f64 / elapsed.as_secs_f64(),
        "jobs/s",
        Some(Target::AtLeast(150_000.0)),
    );
    Ok(report)
}
