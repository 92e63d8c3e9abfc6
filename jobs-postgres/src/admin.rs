//! Reading and administering stored jobs: get, list, counts, retry, cancel,
//! delete.

use chrono::{DateTime, Utc};
use jobs_core::{Counts, FinishedMinute, JobFilter, JobId, JobInfo, JobState};
use sqlx::{PgPool, Row, SqlStr};

use crate::insert::UNFINISHED;
use crate::schema::render;
use crate::{Error, Result};

/// The state a reader sees: a `scheduled` or `retryable` row whose time has
/// come is `available` (claims take it as such; no writer has to move it).
const SHOWN_STATE: &str = "(CASE WHEN state IN ('scheduled', 'retryable') AND scheduled_at <= now()
    THEN 'available' ELSE state END)";

/// A job row as the JSON `JobInfo` reads, built by the database so that
/// every field keeps its exact stored value.
const INFO: &str = "jsonb_build_object(
    'id', id, 'kind', kind, 'queue', queue, 'args', args, 'state', {shown_state},
    'attempt', attempt, 'max_attempts', max_attempts, 'priority', priority,
    'errors', errors, 'created_at', created_at, 'scheduled_at', scheduled_at,
    'attempted_at', attempted_at, 'finished_at', finished_at, 'unique_key', unique_key,
    'progress', progress, 'parents', COALESCE(parents, ARRAY[]::bigint[]),
    'batch', batch_id)::text";

const GET: &str = "SELECT {info} FROM {schema}.jobs WHERE id = $1";

/// The page is chosen by id first, so the rows an offset skips are only
/// counted, never turned into JSON.
const LIST: &str = "
SELECT {info} FROM {schema}.jobs
WHERE id IN (
    SELECT id FROM {schema}.jobs
    WHERE {state_is}
      AND ($1::text IS NULL OR queue = $1)
      AND ($2::text IS NULL OR kind = $2)
      AND ($5::bigint IS NULL OR batch_id = $5)
    ORDER BY {order}
    LIMIT $3 OFFSET $4
)
ORDER BY id";

/// How [`LIST`] finds the jobs a reader sees in `state` (the shown state,
/// as [`SHOWN_STATE`] defines it), written so that it implies the
/// predicate of the partial index holding that state's rows, and the
/// order that reads them best.
///
/// A store keeps finished jobs by the million. `completed` is most of them,
/// so its rows are read in id order from the primary key. Every other state
/// is a small set reached through its own index: dead and cancelled rows in
/// id order from `jobs_failed_idx`; the waiting, running and awaiting ones
/// are collected from their index and sorted. `id + 0` keeps the planner
/// from walking the primary key in order instead and filtering every
/// finished row on the way (it cannot know that the few waiting rows are
/// all at one end of the table).
fn list_state(state: Option<JobState>) -> (&'static str, &'static str) {
    match state {
        None => ("true", "id"),
        Some(JobState::Available) => (
            "state IN ('available', 'scheduled', 'retryable')
  AND (state = 'available' OR scheduled_at <= now())",
            "id + 0",
        ),
        Some(JobState::Scheduled) => ("state = 'scheduled' AND scheduled_at > now()", "id + 0"),
        Some(JobState::Retryable) => ("state = 'retryable' AND scheduled_at > now()", "id + 0"),
        Some(JobState::Running) => ("state = 'running'", "id + 0"),
        Some(JobState::Awaiting) => ("state = 'awaiting'", "id + 0"),
        Some(JobState::Completed) => ("state = 'completed'", "id"),
        Some(JobState::Dead) => ("state = 'dead'", "id"),
        Some(JobState::Cancelled) => ("state = 'cancelled'", "id"),
    }
}

const COUNTS: &str = "
SELECT queue, {shown_state} AS shown, count(*),
       min(scheduled_at) FILTER (WHERE {shown_state} = 'available')
FROM {schema}.jobs
GROUP BY queue, shown";

/// [`COUNTS`] of the unfinished jobs only, each state read from its
/// partial index (`jobs_ready_idx`, `jobs_leased_idx`, `jobs_awaiting_idx`),
/// so the finished rows are never visited.
const UNFINISHED_COUNTS: &str = "
SELECT queue, shown, count(*), min(scheduled_at) FILTER (WHERE shown = 'available')
FROM (
    SELECT queue, {shown_state} AS shown, scheduled_at
    FROM {schema}.jobs WHERE state IN ('available', 'scheduled', 'retryable')
    UNION ALL
    SELECT queue, state, scheduled_at FROM {schema}.jobs WHERE state = 'running'
    UNION ALL
    SELECT queue, state, scheduled_at FROM {schema}.jobs WHERE state = 'awaiting'
) unfinished
GROUP BY queue, shown";

const RETRY: &str = "
WITH retried AS (
    UPDATE {schema}.jobs
    SET state = 'available',
        scheduled_at = now(),
        finished_at = NULL,
        max_attempts = greatest(max_attempts, attempt + 1)
    WHERE id = $1 AND state IN ('dead', 'cancelled', 'retryable', 'scheduled')
      AND {shown_state} <> 'available'
    RETURNING queue
)
SELECT pg_notify($2, queue)::text FROM retried";

/// Cancels, forgets what the job waited for (if it was awaiting) and
/// settles the jobs waiting on it, in one statement.
const CANCEL: &str = "
WITH cancelled AS (
    UPDATE {schema}.jobs
    SET state = 'cancelled', finished_at = now(), leased_until = NULL
    WHERE id = $1 AND state IN {unfinished}
    RETURNING id, has_children
),
unwaited AS (
    DELETE FROM {schema}.job_waits WHERE child IN (SELECT id FROM cancelled)
)
SELECT (SELECT count(*) FROM cancelled),
       (SELECT {schema}.jobs_settle_children(array_agg(id), array_agg('cancelled'::text), $2)
        FROM cancelled WHERE has_children HAVING count(*) > 0)";

/// Deletes, forgets what the job waited for, and settles the jobs waiting
/// on it, in one statement.
const DELETE: &str = "
WITH deleted AS (
    DELETE FROM {schema}.jobs WHERE id = $1 AND state <> 'running'
    RETURNING id, has_children
),
unwaited AS (
    DELETE FROM {schema}.job_waits WHERE child IN (SELECT id FROM deleted)
)
SELECT (SELECT count(*) FROM deleted),
       (SELECT {schema}.jobs_settle_children(array_agg(id), array_agg('deleted'::text), $2)
        FROM deleted WHERE has_children HAVING count(*) > 0)";

/// Finished jobs per minute, read from the pruner's index on `finished_at`.
const FINISHED_PER_MINUTE: &str = "
SELECT date_trunc('minute', finished_at) AS minute,
       count(*) FILTER (WHERE state = 'completed'),
       count(*) FILTER (WHERE state <> 'completed')
FROM {schema}.jobs
WHERE state IN ('completed', 'dead', 'cancelled') AND finished_at >= $1
GROUP BY minute
ORDER BY minute";

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

/// The rendered admin statements of one schema.
#[derive(Debug)]
pub(crate) struct AdminSql {
    get: SqlStr,
    /// [`LIST`] with no state filter, then one per state in
    /// [`JobState::ALL`] order.
    list: Vec<SqlStr>,
    counts: SqlStr,
    unfinished_counts: SqlStr,
    retry: SqlStr,
    cancel: SqlStr,
    delete: SqlStr,
    finished_per_minute: SqlStr,
}

impl AdminSql {
    pub(crate) fn new(schema: &str) -> Self {
        let fill = |template: &str| {
            let template = template
                .replace("{info}", INFO)
                .replace("{shown_state}", SHOWN_STATE)
                .replace("{unfinished}", UNFINISHED);
            render(&template, schema)
        };
        Self {
            get: fill(GET),
            list: std::iter::once(None)
                .chain(JobState::ALL.into_iter().map(Some))
                .map(|state| {
                    let (state_is, order) = list_state(state);
                    fill(
                        &LIST
                            .replace("{state_is}", state_is)
                            .replace("{order}", order),
                    )
                })
                .collect(),
            counts: fill(COUNTS),
            unfinished_counts: fill(UNFINISHED_COUNTS),
            retry: fill(RETRY),
            cancel: fill(CANCEL),
            delete: fill(DELETE),
            finished_per_minute: fill(FINISHED_PER_MINUTE),
        }
    }
}

fn info(json: &str) -> Result<JobInfo> {
    serde_json::from_str(json).map_err(|error| Error::decode("job", error))
}

pub(crate) async fn get(pool: &PgPool, sql: &AdminSql, id: JobId) -> Result<Option<JobInfo>> {
    let json: Option<String> = sqlx::query_scalar(sql.get.clone())
        .bind(id.get())
        .fetch_optional(pool)
        .await
        .map_err(Error::db(format!("read job {id}")))?;
    json.as_deref().map(info).transpose()
}

pub(crate) async fn list(
    pool: &PgPool,
    sql: &AdminSql,
    filter: &JobFilter,
) -> Result<Vec<JobInfo>> {
    // the statements are built for None and every state of JobState::ALL
    let index = filter.state.map_or(Some(0), |state| {
        JobState::ALL
            .iter()
            .position(|known| *known == state)
            .map(|at| at + 1)
    });
    let statement = index.and_then(|at| sql.list.get(at)).ok_or_else(|| {
        Error::decode(
            "job state",
            format!("no listing for state {:?}", filter.state),
        )
    })?;
    let rows: Vec<String> = sqlx::query_scalar(statement.clone())
        .bind(filter.queue.as_deref())
        .bind(filter.kind.as_deref())
        .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(filter.offset).unwrap_or(i64::MAX))
        .bind(filter.batch.map(|batch| batch.get()))
        .fetch_all(pool)
        .await
        .map_err(Error::db("list jobs"))?;
    rows.iter().map(|json| info(json)).collect()
}

pub(crate) async fn counts(pool: &PgPool, sql: &AdminSql) -> Result<Counts> {
    read_counts(pool, &sql.counts).await
}

pub(crate) async fn unfinished_counts(pool: &PgPool, sql: &AdminSql) -> Result<Counts> {
    read_counts(pool, &sql.unfinished_counts).await
}

/// Runs [`COUNTS`] or [`UNFINISHED_COUNTS`].
async fn read_counts(pool: &PgPool, statement: &SqlStr) -> Result<Counts> {
    let rows = sqlx::query(statement.clone())
        .fetch_all(pool)
        .await
        .map_err(Error::db("count jobs"))?;
    let mut counts = Counts::default();
    for row in rows {
        let queue: String = row.try_get(0).map_err(Error::db("read job counts"))?;
        let state: String = row.try_get(1).map_err(Error::db("read job counts"))?;
        let count: i64 = row.try_get(2).map_err(Error::db("read job counts"))?;
        let oldest: Option<DateTime<Utc>> = row.try_get(3).map_err(Error::db("read job counts"))?;
        let state: JobState = state
            .parse()
            .map_err(|error| Error::decode("job state", error))?;
        counts.add(&queue, state, u64::try_from(count).unwrap_or(0));
        if let Some(oldest) = oldest {
            counts.note_oldest_available(&queue, oldest);
        }
    }
    Ok(counts)
}

pub(crate) async fn finished_per_minute(
    pool: &PgPool,
    sql: &AdminSql,
    since: DateTime<Utc>,
) -> Result<Vec<FinishedMinute>> {
    let rows: Vec<(DateTime<Utc>, i64, i64)> = sqlx::query_as(sql.finished_per_minute.clone())
        .bind(since)
        .fetch_all(pool)
        .await
        .map_err(Error::db("count finished jobs per minute"))?;
    Ok(rows
        .into_iter()
        .map(|(minute, completed, failed)| FinishedMinute {
            minute,
            completed: u64::try_from(completed).unwrap_or(0),
            failed: u64::try_from(failed).unwrap_or(0),
        })
        .collect())
}

pub(crate) async fn retry(pool: &PgPool, sql: &AdminSql, channel: &str, id: JobId) -> Result<bool> {
    let result: std::result::Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar(sql.retry.clone())
            .bind(id.get())
            .bind(channel)
            .fetch_optional(pool)
            .await;
    match result {
        Ok(row) => Ok(row.is_some()),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(UNIQUE_VIOLATION) => {
            tracing::warn!(
                job.id = id.get(),
                "not retried: an unfinished job of the same kind has the same unique key"
            );
            Ok(false)
        }
        Err(error) => Err(Error::db(format!("retry job {id}"))(error)),
    }
}

pub(crate) async fn cancel(
    pool: &PgPool,
    sql: &AdminSql,
    channel: &str,
    id: JobId,
) -> Result<bool> {
    let (changed, _settled): (i64, Option<i32>) = sqlx::query_as(sql.cancel.clone())
        .bind(id.get())
        .bind(channel)
        .fetch_one(pool)
        .await
        .map_err(Error::db(format!("cancel job {id}")))?;
    Ok(changed > 0)
}

pub(crate) async fn delete(
    pool: &PgPool,
    sql: &AdminSql,
    channel: &str,
    id: JobId,
) -> Result<bool> {
    let (deleted, _settled): (i64, Option<i32>) = sqlx::query_as(sql.delete.clone())
        .bind(id.get())
        .bind(channel)
        .fetch_one(pool)
        .await
        .map_err(Error::db(format!("delete job {id}")))?;
    Ok(deleted > 0)
}
