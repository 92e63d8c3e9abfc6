//! What the leader's housekeeping asks of the store: the running jobs
//! whose lease expired (jobs-core decides what becomes of them, and
//! `complete.rs` stores that under the rescue fence), and deleting finished
//! jobs past the cut-offs it computed. Both are bounded and skip locked
//! rows, so a large backlog is worked off in short statements without
//! blocking workers.

use jobs_core::JobId;
use jobs_core::backend::{ExpiredJob, JobPruneParams, RunningAttempt};
use sqlx::{PgPool, Row, SqlStr};

use crate::schema::render;
use crate::{Error, Result};

const EXPIRED: &str = "
SELECT id, attempt, kind, max_attempts, worker_id FROM {schema}.jobs
WHERE state = 'running' AND leased_until < now()
ORDER BY leased_until
LIMIT $1";

const PRUNE: &str = "
WITH doomed AS (
    SELECT id FROM {schema}.jobs
    WHERE state IN ('completed', 'dead', 'cancelled')
      AND finished_at < greatest($1::timestamptz, $2::timestamptz)
      AND finished_at < CASE WHEN state = 'completed' THEN $1::timestamptz ELSE $2::timestamptz END
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
DELETE FROM {schema}.jobs j USING doomed WHERE j.id = doomed.id";

/// Forgets batches none of whose jobs is stored any more (they were all
/// pruned or deleted), once they are older than both retentions.
const PRUNE_BATCHES: &str = "
DELETE FROM {schema}.batches b
WHERE b.created_at < least($1::timestamptz, $2::timestamptz)
  AND NOT EXISTS (SELECT 1 FROM {schema}.jobs j WHERE j.batch_id = b.id)";

/// The rendered maintenance statements of one schema.
#[derive(Debug)]
pub(crate) struct MaintenanceSql {
    expired: SqlStr,
    prune: SqlStr,
    prune_batches: SqlStr,
}

impl MaintenanceSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            expired: render(EXPIRED, schema),
            prune: render(PRUNE, schema),
            prune_batches: render(PRUNE_BATCHES, schema),
        }
    }
}

/// Running jobs whose lease expired, the longest expired first.
pub(crate) async fn expired(
    pool: &PgPool,
    sql: &MaintenanceSql,
    limit: usize,
) -> Result<Vec<ExpiredJob>> {
    let rows = sqlx::query(sql.expired.clone())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await
        .map_err(Error::db("list jobs whose lease expired"))?;
    rows.iter()
        .map(|row| {
            let read = |error| Error::db("read jobs whose lease expired")(error);
            let attempt: i32 = row.try_get(1).map_err(read)?;
            let max_attempts: i32 = row.try_get(3).map_err(read)?;
            Ok(ExpiredJob {
                run: RunningAttempt {
                    id: JobId::new(row.try_get(0).map_err(read)?),
                    attempt: u32::try_from(attempt).unwrap_or(0),
                },
                kind: row.try_get(2).map_err(read)?,
                max_attempts: u32::try_from(max_attempts).unwrap_or(0),
                worker_id: row.try_get(4).map_err(read)?,
            })
        })
        .collect()
}

/// Deletes finished jobs past the cut-offs, at most `limit`.
pub(crate) async fn prune(
    pool: &PgPool,
    sql: &MaintenanceSql,
    params: JobPruneParams,
) -> Result<u64> {
    let deleted = sqlx::query(sql.prune.clone())
        .bind(params.completed_before)
        .bind(params.failed_before)
        .bind(i64::try_from(params.limit).unwrap_or(i64::MAX))
        .execute(pool)
        .await
        .map_err(Error::db("prune finished jobs past their retention"))?
        .rows_affected();
    sqlx::query(sql.prune_batches.clone())
        .bind(params.completed_before)
        .bind(params.failed_before)
        .execute(pool)
        .await
        .map_err(Error::db("forget batches whose jobs were all pruned"))?;
    Ok(deleted)
}
