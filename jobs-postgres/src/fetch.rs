//! Claiming due jobs: one statement locks a batch with `FOR UPDATE SKIP
//! LOCKED` (so concurrent workers never wait on each other or take the same
//! row), marks it running under a lease and returns only what a run needs.

use chrono::{DateTime, Utc};
use jobs_core::JobId;
use jobs_core::backend::{FetchRequest, FetchedBatch, FetchedJob};
use sqlx::{PgPool, Row};

use crate::schema::render;
use crate::{Error, Result};

const CLAIM: &str = "
WITH due AS (
    SELECT id FROM {schema}.jobs
    WHERE state IN ('available', 'scheduled', 'retryable')
      AND queue = $1
      AND scheduled_at <= now()
      AND kind = ANY($2)
    ORDER BY priority, scheduled_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE {schema}.jobs j
SET state = 'running',
    attempt = j.attempt + 1,
    attempted_at = now(),
    progress = NULL,
    leased_until = now() + make_interval(secs => $4),
    worker_id = $5
FROM due
WHERE j.id = due.id
RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.priority,
          j.created_at, j.scheduled_at";

// Only asked after a short batch: when the next waiting job becomes due.
// Not only future ones: a job that came due between the claim's snapshot and
// this one was not claimed, and must not wait for the poll interval; the
// worker fetches again at once for a due time already past.
const NEXT_DUE: &str = "
SELECT min(scheduled_at) FROM {schema}.jobs
WHERE state IN ('scheduled', 'retryable')
  AND queue = $1
  AND kind = ANY($2)";

/// The rendered claim statements of one schema.
#[derive(Debug)]
pub(crate) struct FetchSql {
    claim: String,
    next_due: String,
}

impl FetchSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            claim: render(CLAIM, schema),
            next_due: render(NEXT_DUE, schema),
        }
    }
}

/// Claims up to `request.limit` due jobs, best first.
pub(crate) async fn fetch(
    pool: &PgPool,
    sql: &FetchSql,
    request: FetchRequest<'_>,
) -> Result<FetchedBatch> {
    if request.limit == 0 || request.kinds.is_empty() {
        return Ok(FetchedBatch::default());
    }
    let context = || format!("claim jobs from queue `{}`", request.queue);
    let limit = i64::try_from(request.limit).unwrap_or(i64::MAX);
    let rows = sqlx::query(&sql.claim)
        .bind(request.queue)
        .bind(request.kinds)
        .bind(limit)
        .bind(request.lease.as_secs_f64())
        .bind(request.worker_id)
        .fetch_all(pool)
        .await
        .map_err(Error::db(context()))?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let read = |error| Error::db(format!("read jobs claimed from `{}`", request.queue))(error);
        let attempt: i32 = row.try_get(4).map_err(read)?;
        let max_attempts: i32 = row.try_get(5).map_err(read)?;
        let priority: i16 = row.try_get(6).map_err(read)?;
        let job = FetchedJob {
            id: JobId::new(row.try_get(0).map_err(read)?),
            kind: row.try_get(1).map_err(read)?,
            queue: row.try_get(2).map_err(read)?,
            args: row.try_get(3).map_err(read)?,
            attempt: u32::try_from(attempt).unwrap_or(0),
            max_attempts: u32::try_from(max_attempts).unwrap_or(0),
            created_at: row.try_get(7).map_err(read)?,
            scheduled_at: row.try_get(8).map_err(read)?,
        };
        claimed.push((priority, job));
    }
    // RETURNING does not keep the claim order.
    claimed.sort_by(|(pa, a), (pb, b)| (pa, a.scheduled_at, a.id).cmp(&(pb, b.scheduled_at, b.id)));
    let jobs: Vec<FetchedJob> = claimed.into_iter().map(|(_, job)| job).collect();
    let next_due_at = if jobs.len() < request.limit {
        sqlx::query_scalar::<_, Option<DateTime<Utc>>>(&sql.next_due)
            .bind(request.queue)
            .bind(request.kinds)
            .fetch_one(pool)
            .await
            .map_err(Error::db(format!(
                "look up the next due job of queue `{}`",
                request.queue
            )))?
    } else {
        None
    };
    Ok(FetchedBatch { jobs, next_due_at })
}
