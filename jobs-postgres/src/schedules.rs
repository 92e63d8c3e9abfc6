//! Recurring schedules: stored next ticks, advanced by compare-and-set in
//! the same transaction that inserts the tick's jobs, so each tick yields
//! its jobs once however many workers race for it.

use jobs_core::backend::{
    ScheduleAdvanceParams, ScheduleDeclareParams, ScheduleSpec, ScheduleUpsertParams, ScheduledJob,
    StoredSchedule,
};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgPool, Row, SqlStr};

use crate::insert::{InsertSql, insert_many};
use crate::schema::render;
use crate::{Error, Result};

const COLUMNS: &str = "id, cron, tz, misfire, kind, queue, args::text, priority, max_attempts, \
     next_run_at, last_run_at, declared_until, version";

/// A changed cron or zone restarts the schedule at the given tick; any other
/// change (misfire policy, job) keeps the stored next tick. The declaration
/// only ever extends.
const UPSERT: &str = "
INSERT INTO {schema}.schedules AS s
    (id, cron, tz, misfire, kind, queue, args, priority, max_attempts, next_run_at, declared_until,
     version)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, now() + make_interval(secs => $11), $12)
ON CONFLICT (id) DO UPDATE
SET cron = EXCLUDED.cron,
    tz = EXCLUDED.tz,
    misfire = EXCLUDED.misfire,
    kind = EXCLUDED.kind,
    queue = EXCLUDED.queue,
    args = EXCLUDED.args,
    priority = EXCLUDED.priority,
    max_attempts = EXCLUDED.max_attempts,
    version = EXCLUDED.version,
    next_run_at = CASE
        WHEN (s.cron, s.tz) = (EXCLUDED.cron, EXCLUDED.tz) THEN s.next_run_at
        ELSE EXCLUDED.next_run_at END,
    declared_until = greatest(s.declared_until, EXCLUDED.declared_until),
    updated_at = now()
RETURNING {columns}";

const DECLARE: &str = "
UPDATE {schema}.schedules
SET declared_until = greatest(declared_until, now() + make_interval(secs => $2))
WHERE id = ANY($1)";

const LIST: &str = "SELECT {columns} FROM {schema}.schedules ORDER BY id";

const ADVANCE: &str = "
UPDATE {schema}.schedules
SET next_run_at = $3, last_run_at = now()
WHERE id = $1 AND next_run_at = $2";

const REMOVE: &str = "DELETE FROM {schema}.schedules WHERE id = $1";

/// The rendered schedule statements of one schema.
#[derive(Debug)]
pub(crate) struct ScheduleSql {
    upsert: SqlStr,
    declare: SqlStr,
    list: SqlStr,
    advance: SqlStr,
    remove: SqlStr,
}

impl ScheduleSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            upsert: render(&UPSERT.replace("{columns}", COLUMNS), schema),
            declare: render(DECLARE, schema),
            list: render(&LIST.replace("{columns}", COLUMNS), schema),
            advance: render(ADVANCE, schema),
            remove: render(REMOVE, schema),
        }
    }
}

fn stored(row: &PgRow) -> Result<StoredSchedule> {
    let read = |error| Error::db("read a stored schedule")(error);
    let misfire: String = row.try_get(3).map_err(read)?;
    let max_attempts: i32 = row.try_get(8).map_err(read)?;
    let version: i32 = row.try_get(12).map_err(read)?;
    Ok(StoredSchedule {
        spec: ScheduleSpec {
            id: row.try_get(0).map_err(read)?,
            cron: row.try_get(1).map_err(read)?,
            tz: row.try_get(2).map_err(read)?,
            misfire: misfire
                .parse()
                .map_err(|error| Error::decode("a stored schedule's misfire policy", error))?,
            job: ScheduledJob {
                kind: row.try_get(4).map_err(read)?,
                queue: row.try_get(5).map_err(read)?,
                args: row.try_get(6).map_err(read)?,
                priority: row.try_get(7).map_err(read)?,
                max_attempts: u32::try_from(max_attempts).unwrap_or(1),
                version: u32::try_from(version).unwrap_or(1),
            },
        },
        next_run_at: row.try_get(9).map_err(read)?,
        last_run_at: row.try_get(10).map_err(read)?,
        declared_until: row.try_get(11).map_err(read)?,
    })
}

/// Stores a declared schedule, vouched for `declared_for`.
pub(crate) async fn upsert(
    pool: &PgPool,
    sql: &ScheduleSql,
    params: ScheduleUpsertParams<'_>,
) -> Result<StoredSchedule> {
    let spec = params.spec;
    let row = sqlx::query(sql.upsert.clone())
        .bind(&spec.id)
        .bind(&spec.cron)
        .bind(&spec.tz)
        .bind(spec.misfire.as_str())
        .bind(&spec.job.kind)
        .bind(&spec.job.queue)
        .bind(&spec.job.args)
        .bind(spec.job.priority)
        .bind(i32::try_from(spec.job.max_attempts).unwrap_or(i32::MAX))
        .bind(params.next_run_at)
        .bind(params.declared_for.as_secs_f64())
        .bind(i32::try_from(spec.job.version).unwrap_or(i32::MAX))
        .fetch_one(pool)
        .await
        .map_err(Error::db(format!("store schedule `{}`", spec.id)))?;
    stored(&row)
}

/// Renews the declarations of the stored schedules among `ids`.
pub(crate) async fn declare(
    pool: &PgPool,
    sql: &ScheduleSql,
    params: ScheduleDeclareParams<'_>,
) -> Result<()> {
    sqlx::query(sql.declare.clone())
        .bind(params.ids)
        .bind(params.declared_for.as_secs_f64())
        .execute(pool)
        .await
        .map_err(Error::db(format!(
            "renew the declarations of {} schedules",
            params.ids.len()
        )))?;
    Ok(())
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
    params: ScheduleAdvanceParams<'_>,
) -> Result<bool> {
    let ScheduleAdvanceParams {
        id,
        expected_next,
        next_run_at,
        jobs,
    } = params;
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
        insert_many(&mut tx, insert, &jobs).await?;
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
