//! The flow-control drains on PostgreSQL, each on a fresh schema (see
//! `crate::flow`).

use std::sync::Arc;

use super::{Pg, Result};
use crate::flow;
use crate::report::Report;
use crate::workloads::Sizes;

/// `concurrency = 8` per key over 1,000 keys.
pub(crate) async fn drain_keyed(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let schema = "bench_drain_keyed";
    let backend = pg.fresh(schema).await?;
    let report = flow::drain_keyed(
        "pg-drain-keyed",
        "postgres",
        Arc::new(backend.clone()),
        sizes,
    )
    .await;
    backend.pool().close().await;
    pg.drop_schema(schema).await?;
    report
}

/// `rate_limit = "5000/1s"`.
pub(crate) async fn drain_rate(pg: &Pg, sizes: &Sizes) -> Result<Report> {
    let schema = "bench_drain_rate";
    let backend = pg.fresh(schema).await?;
    let report = flow::drain_rate(
        "pg-drain-rate",
        "postgres",
        Arc::new(backend.clone()),
        sizes,
    )
    .await;
    backend.pool().close().await;
    pg.drop_schema(schema).await?;
    report
}
