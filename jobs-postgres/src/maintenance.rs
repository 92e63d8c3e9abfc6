//! The leader's housekeeping: rescue running jobs whose lease expired (their
//! worker died or stalled) and prune finished jobs past their retention.
//! Both work in bounded batches that skip locked rows, so a large backlog is
//! worked off over several short transactions without blocking workers.

use std::collections::BTreeSet;

use jobs_core::backend::MaintenanceReport;
use jobs_core::wake::WakeHub;
use sqlx::{PgPool, Row, SqlStr};

use crate::config::PgConfig;
use crate::schema::render;
use crate::{Error, Result};

/// The message recorded for an attempt whose worker stopped renewing its lease.
pub const WORKER_LOST: &str = "worker lost";

const RESCUE: &str = "
WITH expired AS (
    SELECT id FROM {schema}.jobs
    WHERE state = 'running' AND leased_until < now()
    ORDER BY leased_until
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE {schema}.jobs j
SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'retryable' END,
    scheduled_at = CASE WHEN j.attempt >= j.max_attempts THEN j.scheduled_at ELSE now() END,
    finished_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
    errors = j.errors || jsonb_build_array(jsonb_build_object(
        'attempt', j.attempt,
        'message', $2 || ': ' || coalesce(j.worker_id, 'its worker') || ' stopped renewing its lease',
        'at', now())),
    leased_until = NULL,
    worker_id = NULL
FROM expired
WHERE j.id = expired.id
RETURNING j.id, j.queue, j.state";

const PRUNE: &str = "
WITH doomed AS (
    SELECT id FROM {schema}.jobs
    WHERE state IN ('completed', 'dead', 'cancelled')
      AND finished_at < now() - make_interval(secs => least($1, $2))
      AND finished_at < now() - make_interval(secs => CASE WHEN state = 'completed' THEN $1 ELSE $2 END)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
DELETE FROM {schema}.jobs j USING doomed WHERE j.id = doomed.id";

/// The rendered maintenance statements of one schema.
#[derive(Debug)]
pub(crate) struct MaintenanceSql {
    rescue: SqlStr,
    prune: SqlStr,
}

impl MaintenanceSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            rescue: render(RESCUE, schema),
            prune: render(PRUNE, schema),
        }
    }
}

/// One pass: rescue, then prune.
pub(crate) async fn maintain(
    pool: &PgPool,
    sql: &MaintenanceSql,
    config: &PgConfig,
    channel: &str,
    hub: &WakeHub,
) -> Result<MaintenanceReport> {
    let rescued = rescue(pool, sql, config, channel, hub).await?;
    let pruned = prune(pool, sql, config).await?;
    Ok(MaintenanceReport { rescued, pruned })
}

async fn rescue(
    pool: &PgPool,
    sql: &MaintenanceSql,
    config: &PgConfig,
    channel: &str,
    hub: &WakeHub,
) -> Result<u64> {
    let batch = i64::try_from(config.maintenance_batch).unwrap_or(i64::MAX);
    let mut rescued = 0;
    let mut ready = BTreeSet::new();
    for _ in 0..config.maintenance_batches {
        let rows = sqlx::query(sql.rescue.clone())
            .bind(batch)
            .bind(WORKER_LOST)
            .fetch_all(pool)
            .await
            .map_err(Error::db("rescue jobs whose lease expired"))?;
        for row in &rows {
            let read = Error::db("read rescued jobs");
            let (id, queue, state): (i64, String, String) = (
                row.try_get(0).map_err(Error::db("read rescued jobs"))?,
                row.try_get(1).map_err(Error::db("read rescued jobs"))?,
                row.try_get(2).map_err(read)?,
            );
            tracing::warn!(
                job.id = id,
                queue,
                state,
                "rescued a job whose worker stopped renewing its lease"
            );
            if state == "retryable" {
                ready.insert(queue);
            }
        }
        rescued += rows.len() as u64;
        if (rows.len() as i64) < batch {
            break;
        }
    }
    if !ready.is_empty() {
        let queues = ready
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(&queues)
            .execute(pool)
            .await
            .map_err(Error::db("announce rescued jobs"))?;
        for queue in &ready {
            hub.notify(queue);
        }
    }
    Ok(rescued)
}

async fn prune(pool: &PgPool, sql: &MaintenanceSql, config: &PgConfig) -> Result<u64> {
    let batch = i64::try_from(config.maintenance_batch).unwrap_or(i64::MAX);
    let mut pruned = 0;
    for _ in 0..config.maintenance_batches {
        let deleted = sqlx::query(sql.prune.clone())
            .bind(config.completed_retention.as_secs_f64())
            .bind(config.dead_retention.as_secs_f64())
            .bind(batch)
            .execute(pool)
            .await
            .map_err(Error::db("prune finished jobs past their retention"))?
            .rows_affected();
        pruned += deleted;
        if deleted < batch as u64 {
            break;
        }
    }
    Ok(pruned)
}
