//! Live workers: one row per worker in `workers`, upserted at each
//! heartbeat with an expiry, listed while that expiry is ahead.

use chrono::{DateTime, Utc};
use jobs_core::backend::WorkerHeartbeatParams;
use jobs_core::{WorkerInfo, WorkerQueue};
use sqlx::{PgPool, Row, SqlStr};

use crate::schema::render;
use crate::{Error, Result};

const HEARTBEAT: &str = "
INSERT INTO {schema}.workers AS w
    (id, hostname, pid, queues, running, started_at, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, now(), now() + make_interval(secs => $7))
ON CONFLICT (id) DO UPDATE
SET hostname = EXCLUDED.hostname,
    pid = EXCLUDED.pid,
    queues = EXCLUDED.queues,
    running = EXCLUDED.running,
    started_at = EXCLUDED.started_at,
    last_seen_at = EXCLUDED.last_seen_at,
    expires_at = EXCLUDED.expires_at";

const LIST: &str = "
SELECT id, hostname, pid, queues::text, running, started_at, last_seen_at
FROM {schema}.workers
WHERE expires_at > now()
ORDER BY id";

const REMOVE: &str = "DELETE FROM {schema}.workers WHERE id = $1";

const PRUNE: &str = "DELETE FROM {schema}.workers WHERE expires_at <= now()";

/// The rendered worker statements of one schema.
#[derive(Debug)]
pub(crate) struct WorkerSql {
    heartbeat: SqlStr,
    list: SqlStr,
    remove: SqlStr,
    prune: SqlStr,
}

impl WorkerSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            heartbeat: render(HEARTBEAT, schema),
            list: render(LIST, schema),
            remove: render(REMOVE, schema),
            prune: render(PRUNE, schema),
        }
    }
}

/// Inserts or replaces the worker's row, live for its lease.
pub(crate) async fn heartbeat(
    pool: &PgPool,
    sql: &WorkerSql,
    params: WorkerHeartbeatParams<'_>,
) -> Result<()> {
    let queues = serde_json::to_string(params.queues)
        .map_err(|error| Error::decode("worker queues", error))?;
    sqlx::query(sql.heartbeat.clone())
        .bind(params.id)
        .bind(params.hostname)
        .bind(i64::from(params.pid))
        .bind(queues)
        .bind(i64::from(params.running))
        .bind(params.started_at)
        .bind(params.lease.as_secs_f64().min(MAX_LEASE_SECS))
        .execute(pool)
        .await
        .map_err(Error::db(format!("record worker `{}` as live", params.id)))?;
    Ok(())
}

/// A lease longer than this (about 100 years) is cut to it, so that no
/// lease overflows PostgreSQL's interval and timestamp arithmetic.
const MAX_LEASE_SECS: f64 = 100.0 * 365.0 * 86_400.0;

/// The live workers, by id.
pub(crate) async fn list(pool: &PgPool, sql: &WorkerSql) -> Result<Vec<WorkerInfo>> {
    let rows = sqlx::query(sql.list.clone())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list live workers"))?;
    rows.iter()
        .map(|row| {
            let pid: i64 = row.try_get(2).map_err(Error::db("read a live worker"))?;
            let queues: String = row.try_get(3).map_err(Error::db("read a live worker"))?;
            let running: i64 = row.try_get(4).map_err(Error::db("read a live worker"))?;
            let queues: Vec<WorkerQueue> = serde_json::from_str(&queues)
                .map_err(|error| Error::decode("worker queues", error))?;
            let started_at: DateTime<Utc> =
                row.try_get(5).map_err(Error::db("read a live worker"))?;
            Ok(WorkerInfo {
                id: row.try_get(0).map_err(Error::db("read a live worker"))?,
                hostname: row.try_get(1).map_err(Error::db("read a live worker"))?,
                pid: u32::try_from(pid).unwrap_or(0),
                queues,
                running: u32::try_from(running).unwrap_or(u32::MAX),
                started_at,
                last_seen_at: row.try_get(6).map_err(Error::db("read a live worker"))?,
            })
        })
        .collect()
}

/// Deletes a worker's row; whether it existed.
pub(crate) async fn remove(pool: &PgPool, sql: &WorkerSql, id: &str) -> Result<bool> {
    let done = sqlx::query(sql.remove.clone())
        .bind(id)
        .execute(pool)
        .await
        .map_err(Error::db(format!("remove worker `{id}`")))?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the rows whose lease ended; how many.
pub(crate) async fn prune(pool: &PgPool, sql: &WorkerSql) -> Result<u64> {
    let done = sqlx::query(sql.prune.clone())
        .execute(pool)
        .await
        .map_err(Error::db("prune workers that stopped heartbeating"))?;
    Ok(done.rows_affected())
}
