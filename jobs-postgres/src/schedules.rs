//! Recurring schedules: stored next ticks, advanced by compare-and-set in
//! the same transaction that inserts the tick's jobs, so each tick yields
//! its jobs once however many workers race for it.

use chrono::{DateTime, Utc};
use jobs_core::backend::{NewJob, ScheduleSpec, StoredSchedule};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgPool, Row, SqlStr};

use crate::insert::{InsertSql, insert_many};
use crate::schema::render;
use crate::{Error, Result};

const UPSERT: &str = "
INSERT INTO {schema}.schedules AS s (id, kind, cron, tz, next_run_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET kind = EXCLUDED.kind,
    cron = EXCLUDED.cron,
    tz = EXCLUDED.tz,
    next_run_at = CASE
        WHEN (s.kind, s.cron, s.tz) = (EXCLUDED.kind, EXCLUDED.cron, EXCLUDED.tz) THEN s.next_run_at
        ELSE EXCLUDED.next_run_at END,
    updated_at = CASE
        WHEN (s.kind, s.cron, s.tz) = (EXCLUDED.kind, EXCLUDED.cron, EXCLUDED.tz) THEN s.updated_at
        ELSE now() END
RETURNING id, kind, cron, tz, next_run_at, last_run_at";

const LIST: &str =
    "SELECT id, kind, cron, tz, next_run_at, last_run_at FROM {schema}.schedules ORDER BY id";

const ADVANCE: &str = "
UPDATE {schema}.schedules
SET next_run_at = $3, last_run_at = now()
WHERE id = $1 AND next_run_at = $2";

const REMOVE: &str = "DELETE FROM {schema}.schedules WHERE id = $1";

/// The rendered schedule statements of one schema.
#[derive(Debug)]
pub(crate) struct ScheduleSql {
    upsert: SqlStr,
    list: SqlStr,
    advance: SqlStr,
    remove: SqlStr,
}

impl ScheduleSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            upsert: render(UPSERT, schema),
            list: render(LIST, schema),
            advance: render(ADVANCE, schema),
            remove: render(REMOVE, schema),
        }
    }
}

fn stored(row: &PgRow) -> Result<StoredSchedule> {
    let read = |error| Error::db("read a stored schedule")(error);
    Ok(StoredSchedule {
        spec: ScheduleSpec {
            id: row.try_get(0).map_err(read)?,
            kind: row.try_get(1).map_err(read)?,
            cron: row.try_get(2).map_err(read)?,
            tz: row.try_get(3).map_err(read)?,
        },
        next_run_at: row.try_get(4).map_err(read)?,
        last_run_at: row.try_get(5).map_err(read)?,
    })
}

/// Stores a declared schedule; an unchanged one keeps its next tick.
pub(crate) async fn upsert(
    pool: &PgPool,
    sql: &ScheduleSql,
    spec: &ScheduleSpec,
    next_run_at: DateTime<Utc>,
) -> Result<StoredSchedule> {
    let row = sqlx::query(sql.upsert.clone())
        .bind(&spec.id)
        .bind(&spec.kind)
        .bind(&spec.cron)
        .bind(&spec.tz)
        .bind(next_run_at)
        .fetch_one(pool)
        .await
        .map_err(Error::db(format!("store schedule `{}`", spec.id)))?;
    stored(&row)
}

/// Every stored schedule, by id.
pub(crate) async fn list(pool: &PgPool, sql: &ScheduleSql) -> Result<Vec<StoredSchedule>> {
    let rows = sqlx::query(sql.list.clone())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list schedules"))?;
    rows.iter().map(stored).collect()
}

/// If schedule `id` still expects `expected_next`, moves it to
/// `next_run_at` and inserts `jobs`, in one transaction.
pub(crate) async fn advance(
    pool: &PgPool,
    sql: &ScheduleSql,
    insert: &InsertSql,
    id: &str,
    expected_next: DateTime<Utc>,
    next_run_at: DateTime<Utc>,
    jobs: &[NewJob],
) -> Result<bool> {
    let context = || format!("advance schedule `{id}`");
    let mut conn = pool.acquire().await.map_err(Error::db(context()))?;
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    let moved = sqlx::query(sql.advance.clone())
        .bind(id)
        .bind(expected_next)
        .bind(next_run_at)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context()))?
        .rows_affected();
    if moved == 0 {
        // another worker advanced it first, or it was removed
        tx.rollback().await.map_err(Error::db(context()))?;
        return Ok(false);
    }
    if !jobs.is_empty() {
        insert_many(&mut tx, insert, jobs).await?;
    }
    tx.commit().await.map_err(Error::db(context()))?;
    Ok(true)
}

/// Deletes schedule `id`; returns whether it existed.
pub(crate) async fn remove(pool: &PgPool, sql: &ScheduleSql, id: &str) -> Result<bool> {
    let removed = sqlx::query(sql.remove.clone())
        .bind(id)
        .execute(pool)
        .await
        .map_err(Error::db(format!("remove schedule `{id}`")))?
        .rows_affected();
    Ok(removed > 0)
}
