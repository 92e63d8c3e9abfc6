//! Recurring schedules: stored next ticks, advanced by compare-and-set in
//! the same transaction that inserts the tick's jobs, so each tick yields
//! its jobs once however many workers race for it.

use jobs_core::backend::{
    ScheduleAdvanceParams, ScheduleDeclareParams, ScheduleRestart, ScheduleSpec,
    ScheduleUpsertParams, ScheduledJob, StoredSchedule,
};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgPool, Row, SqlStr};

use crate::insert::{InsertSql, insert_many};
use crate::schema::render;
use crate::{Error, Result};

/// A stored schedule as reported, from `{schema}.schedules s` joined with
/// [`WITH_KINDS`]: a run-time schedule is vouched for as long as a live
/// worker runs its kind (the first time there is `EARLIEST`, year 1).
const COLUMNS: &str = "s.id, s.cron, s.tz, s.misfire, s.kind, s.queue, s.args::text, s.priority, \
     s.max_attempts, s.next_run_at, s.last_run_at, \
     CASE WHEN s.origin = 'runtime' \
         THEN coalesce(k.declared_until, '0001-01-01 00:00:00+00'::timestamptz) \
         ELSE s.declared_until END, \
     s.version, s.origin";

const WITH_KINDS: &str =
    "LEFT JOIN {schema}.schedule_kinds k ON s.origin = 'runtime' AND k.kind = s.kind";

/// A change of cron or zone restarts the schedule at the given tick, and
/// so does any other change of the definition if `$14`; otherwise the
/// stored next tick is kept. The declaration only ever extends. A run-time
/// schedule never replaces a declared one: then no row is returned.
const UPSERT: &str = "
WITH upserted AS (
INSERT INTO {schema}.schedules AS s
    (id, cron, tz, misfire, kind, queue, args, priority, max_attempts, next_run_at, declared_until,
     version, origin)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, now() + make_interval(secs => $11), $12,
        $13)
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
    origin = EXCLUDED.origin,
    next_run_at = CASE
        WHEN (s.cron, s.tz) IS DISTINCT FROM (EXCLUDED.cron, EXCLUDED.tz) THEN EXCLUDED.next_run_at
        WHEN $14 AND (s.misfire, s.kind, s.queue, s.args, s.priority, s.max_attempts)
            IS DISTINCT FROM (EXCLUDED.misfire, EXCLUDED.kind, EXCLUDED.queue, EXCLUDED.args,
                              EXCLUDED.priority, EXCLUDED.max_attempts)
            THEN EXCLUDED.next_run_at
        ELSE s.next_run_at END,
    declared_until = greatest(s.declared_until, EXCLUDED.declared_until),
    updated_at = now()
WHERE NOT (s.origin = 'declared' AND EXCLUDED.origin = 'runtime')
RETURNING *)
SELECT {columns} FROM upserted s {with_kinds}";

const GET: &str = "SELECT {columns} FROM {schema}.schedules s {with_kinds} WHERE s.id = $1";

/// Renews the declared schedules by id and the kinds the worker runs, in
/// sorted order (so concurrent workers lock the rows of kinds in one order).
const DECLARE: &str = "
WITH vouched AS (
    UPDATE {schema}.schedules
    SET declared_until = greatest(declared_until, now() + make_interval(secs => $2))
    WHERE id = ANY($1)
)
INSERT INTO {schema}.schedule_kinds AS k (kind, declared_until)
SELECT DISTINCT kind, now() + make_interval(secs => $2) FROM unnest($3::text[]) AS given(kind)
ORDER BY kind
ON CONFLICT (kind) DO UPDATE
SET declared_until = greatest(k.declared_until, EXCLUDED.declared_until)";

const LIST: &str = "SELECT {columns} FROM {schema}.schedules s {with_kinds} ORDER BY s.id";

/// The compare: the next tick and the definition the scheduler read.
const ADVANCE: &str = "
UPDATE {schema}.schedules
SET next_run_at = $3, last_run_at = now()
WHERE id = $1 AND next_run_at = $2
  AND (cron, tz, misfire, kind, queue, args, priority, max_attempts, version, origin)
    = ($4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)";

const REMOVE: &str = "DELETE FROM {schema}.schedules WHERE id = $1";

/// The rendered schedule statements of one schema.
#[derive(Debug)]
pub(crate) struct ScheduleSql {
    upsert: SqlStr,
    get: SqlStr,
    declare: SqlStr,
    list: SqlStr,
    advance: SqlStr,
    remove: SqlStr,
}

impl ScheduleSql {
    pub(crate) fn new(schema: &str) -> Self {
        let reading = |template: &str| {
            let sql = template
                .replace("{columns}", COLUMNS)
                .replace("{with_kinds}", WITH_KINDS);
            render(&sql, schema)
        };
        Self {
            upsert: reading(UPSERT),
            get: reading(GET),
            declare: render(DECLARE, schema),
            list: reading(LIST),
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
    let origin: String = row.try_get(13).map_err(read)?;
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
            origin: origin
                .parse()
                .map_err(|error| Error::decode("a stored schedule's origin", error))?,
        },
        next_run_at: row.try_get(9).map_err(read)?,
        last_run_at: row.try_get(10).map_err(read)?,
        declared_until: row.try_get(11).map_err(read)?,
    })
}

/// How often an upsert that changed nothing because its row was removed
/// meanwhile is tried again.
const UPSERT_ATTEMPTS: usize = 3;

/// Stores a schedule, vouched for `declared_for`; returns it as stored (a
/// declared one unchanged, if a run-time spec met it).
pub(crate) async fn upsert(
    pool: &PgPool,
    sql: &ScheduleSql,
    params: ScheduleUpsertParams<'_>,
) -> Result<StoredSchedule> {
    let spec = params.spec;
    let context = || format!("store schedule `{}`", spec.id);
    for _ in 0..UPSERT_ATTEMPTS {
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
            .bind(spec.origin.as_str())
            .bind(params.restart == ScheduleRestart::OnAnyChange)
            .fetch_optional(pool)
            .await
            .map_err(Error::db(context()))?;
        if let Some(row) = row {
            return stored(&row);
        }
        // a declared schedule holds the id: report it as it is
        let held = sqlx::query(sql.get.clone())
            .bind(&spec.id)
            .fetch_optional(pool)
            .await
            .map_err(Error::db(context()))?;
        if let Some(row) = held {
            return stored(&row);
        }
    }
    // removed each time between the two statements: give up
    Err(Error::db(context())(sqlx::Error::RowNotFound))
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
        .bind(params.kinds)
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

/// If schedule `spec.id` still expects `expected_next` with the definition
/// `spec`, moves it to
/// `next_run_at` and inserts `jobs`, in one transaction.
pub(crate) async fn advance(
    pool: &PgPool,
    sql: &ScheduleSql,
    insert: &InsertSql,
    params: ScheduleAdvanceParams<'_>,
) -> Result<bool> {
    let ScheduleAdvanceParams {
        spec,
        expected_next,
        next_run_at,
        jobs,
    } = params;
    let context = || format!("advance schedule `{}`", spec.id);
    let mut conn = pool.acquire().await.map_err(Error::db(context()))?;
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    let moved = sqlx::query(sql.advance.clone())
        .bind(&spec.id)
        .bind(expected_next)
        .bind(next_run_at)
        .bind(&spec.cron)
        .bind(&spec.tz)
        .bind(spec.misfire.as_str())
        .bind(&spec.job.kind)
        .bind(&spec.job.queue)
        .bind(&spec.job.args)
        .bind(spec.job.priority)
        .bind(i32::try_from(spec.job.max_attempts).unwrap_or(i32::MAX))
        .bind(i32::try_from(spec.job.version).unwrap_or(i32::MAX))
        .bind(spec.origin.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context()))?
        .rows_affected();
    if moved == 0 {
        // another worker advanced it first, or it was updated or removed
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
