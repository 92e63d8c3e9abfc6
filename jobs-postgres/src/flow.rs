//! Flow control (SPEC §11): the claim of a kind with limits, and paused
//! queues.
//!
//! A limited claim runs in a transaction that first takes a transaction
//! advisory lock on the schema and kind, so the claims of one limited kind
//! take turns across every worker, and then, in one statement with its own
//! snapshot (taken after the lock, so it sees every earlier claim's
//! commit):
//!
//! - counts the kind's `running` rows (per `concurrency_key` when keyed);
//! - counts the kind's starts in the rate window from `job_starts`;
//! - claims, in the usual order (priority, scheduled_at, id), what is left,
//!   stepping over jobs whose key is full;
//! - records each start and prunes starts that left the window;
//! - returns the queue's next due time, and `held_until`: when the window
//!   next has room, if it is full and due jobs of the kind wait.
//!
//! Starts are stamped with `clock_timestamp()` (the time of the claim, not of
//! its transaction's start, which may precede a wait for the lock). Kinds
//! without limits never come here and never take the lock.

use jobs_core::QueueInfo;
use jobs_core::backend::{FetchedBatch, FlowLimits, JobFetchParams};
use sqlx::{Connection, PgConnection, PgPool, Row, SqlStr};

use crate::fetch::read_claimed;
use crate::schema::render;
use crate::{Error, Result};

/// First key of the advisory lock limited claims hold ("flow" in ASCII);
/// the second is the hash of the schema and kind.
const FLOW_LOCK: i32 = 0x666c_6f77;

const LOCK: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// `$1` queue, `$2` kind, `$3` limit, `$4` lease (s), `$5` worker, `$6` the
/// kind's version, `$7` concurrency max (or NULL), `$8` keyed, `$9` rate max
/// (or NULL), `$10` rate window (s).
const CLAIM_LIMITED: &str = "
WITH clock AS (SELECT clock_timestamp() AS at),
started AS (
    SELECT count(*) AS n, min(started_at) AS oldest
    FROM {schema}.job_starts
    WHERE $9::integer IS NOT NULL AND kind = $2
      AND started_at > (SELECT at FROM clock) - make_interval(secs => $10)
),
-- a job without a key (stored before its kind had one) counts as the key ''
running AS (
    SELECT coalesce(concurrency_key, '') AS key, count(*) AS n
    FROM {schema}.jobs
    WHERE $7::integer IS NOT NULL AND state = 'running' AND kind = $2
    GROUP BY 1
),
room AS (
    SELECT greatest(0, least(
        $3::bigint,
        CASE WHEN $9::integer IS NULL THEN $3::bigint
             ELSE $9 - (SELECT n FROM started) END,
        CASE WHEN $7::integer IS NULL OR $8 THEN $3::bigint
             ELSE $7 - coalesce((SELECT sum(n) FROM running), 0)::bigint END
    )) AS n
),
-- the running counts per key as one object, built once and looked up per
-- row, so the ready rows stream from the index in claim order
running_by_key AS (
    SELECT coalesce(jsonb_object_agg(key, n) FILTER (WHERE $8), '{}') AS counts FROM running
),
-- the ready rows in claim order, those of full keys stepped over
candidates AS (
    SELECT id, priority, scheduled_at, key, running FROM (
        SELECT j.id, j.priority, j.scheduled_at, coalesce(j.concurrency_key, '') AS key,
               coalesce(((SELECT counts FROM running_by_key)
                         ->> coalesce(j.concurrency_key, ''))::bigint, 0) AS running
        FROM {schema}.jobs j
        WHERE j.state IN ('available', 'scheduled', 'retryable')
          AND j.queue = $1
          AND j.scheduled_at <= now()
          AND j.kind = $2
          AND j.version <= $6
          AND NOT EXISTS (SELECT 1 FROM {schema}.queues WHERE name = $1 AND paused)
        ORDER BY j.priority, j.scheduled_at, j.id
    ) AS ready
    WHERE NOT $8 OR running < $7
    -- keyed: look a little further, as several of the first may share a key
    LIMIT (SELECT n FROM room) * (CASE WHEN $8 THEN 4 ELSE 1 END)
),
ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY key ORDER BY priority, scheduled_at, id) AS rank
    FROM candidates c
),
chosen AS (
    SELECT id FROM ranked
    WHERE NOT $8 OR rank + running <= $7
    ORDER BY priority, scheduled_at, id
    LIMIT (SELECT n FROM room)
),
claimed AS (
    UPDATE {schema}.jobs j
    {claimed_set}
    FROM chosen
    WHERE j.id = chosen.id AND j.state IN ('available', 'scheduled', 'retryable')
    RETURNING j.id, j.kind, j.args::text AS args, j.attempt, j.max_attempts, j.priority,
              j.created_at, j.scheduled_at, j.version
),
recorded AS (
    INSERT INTO {schema}.job_starts (kind, started_at)
    SELECT $2, (SELECT at FROM clock) FROM claimed
    WHERE $9::integer IS NOT NULL
),
pruned AS (
    DELETE FROM {schema}.job_starts
    WHERE $9::integer IS NOT NULL AND kind = $2
      AND started_at <= (SELECT at FROM clock) - make_interval(secs => $10)
)
SELECT id, kind, args, attempt, max_attempts, priority, created_at, scheduled_at,
       NULL::timestamptz AS next_due, version, NULL::timestamptz AS held_until
FROM claimed
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT min(scheduled_at) FROM {schema}.jobs
        WHERE state IN ('scheduled', 'retryable') AND queue = $1 AND kind = $2
          AND version <= $6
          AND NOT EXISTS (SELECT 1 FROM {schema}.queues WHERE name = $1 AND paused)),
       NULL::integer,
       -- the window is full and due jobs wait: when its oldest start leaves
       CASE WHEN $9::integer IS NOT NULL
                 AND (SELECT n FROM started) + (SELECT count(*) FROM claimed) >= $9
                 AND EXISTS (SELECT 1 FROM {schema}.jobs w
                             WHERE w.state IN ('available', 'scheduled', 'retryable')
                               AND w.queue = $1 AND w.scheduled_at <= now()
                               AND w.kind = $2 AND w.version <= $6
                               AND w.id NOT IN (SELECT id FROM claimed))
            THEN coalesce((SELECT oldest FROM started), (SELECT at FROM clock))
                 + make_interval(secs => $10)
       END";

const PAUSE: &str = "
INSERT INTO {schema}.queues AS q (name, paused) VALUES ($1, true)
ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = now() WHERE NOT q.paused
RETURNING name";

const RESUME: &str = "
WITH resumed AS (
    UPDATE {schema}.queues SET paused = false, updated_at = now()
    WHERE name = $1 AND paused
    RETURNING name
)
SELECT pg_notify($2, name)::text FROM resumed";

const LIST: &str = "
SELECT name, bool_or(paused) AS paused FROM (
    SELECT DISTINCT queue AS name, false AS paused FROM {schema}.jobs
    UNION ALL
    SELECT name, paused FROM {schema}.queues
) AS q
GROUP BY name
ORDER BY name";

/// The rendered flow-control statements of one schema.
#[derive(Debug)]
pub(crate) struct LimitedSql {
    claim: SqlStr,
    schema: String,
}

impl LimitedSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            claim: render(
                &CLAIM_LIMITED.replace("{claimed_set}", crate::fetch::CLAIMED_SET),
                schema,
            ),
            schema: schema.to_owned(),
        }
    }
}

/// Claims jobs of the request's one kind within `limits` (see the module
/// docs).
pub(crate) async fn fetch_limited(
    conn: &mut PgConnection,
    sql: &LimitedSql,
    request: JobFetchParams<'_>,
    limits: FlowLimits,
) -> Result<FetchedBatch> {
    let Some(&kind) = request.kinds.first() else {
        return Ok(FetchedBatch::default());
    };
    let context = || {
        format!(
            "claim jobs of limited kind `{kind}` from queue `{}`",
            request.queue
        )
    };
    let limit = i64::try_from(request.limit).unwrap_or(i64::MAX);
    let version = i32::try_from(request.max_version(0)).unwrap_or(i32::MAX);
    let clamp = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let concurrency = limits.concurrency.map(|limit| clamp(limit.max));
    let keyed = limits.concurrency.is_some_and(|limit| limit.key.is_some());
    let rate = limits.rate.map(|rate| clamp(rate.max));
    let per = limits.rate.map_or(0.0, |rate| rate.per.as_secs_f64());
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    sqlx::query(LOCK)
        .bind(FLOW_LOCK)
        .bind(format!("{}.{kind}", sql.schema))
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context()))?;
    let rows = sqlx::query(sql.claim.clone())
        .bind(request.queue)
        .bind(kind)
        .bind(limit)
        .bind(request.lease.as_secs_f64())
        .bind(request.worker_id)
        .bind(version)
        .bind(concurrency)
        .bind(keyed)
        .bind(rate)
        .bind(per)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db(context()))?;
    tx.commit().await.map_err(Error::db(context()))?;
    read_claimed(rows, &request)
}

/// The paused queues: the pause records alone, never the jobs.
const PAUSED: &str = "SELECT name FROM {schema}.queues WHERE paused ORDER BY name";

/// The rendered queue statements of one schema.
#[derive(Debug)]
pub(crate) struct QueueSql {
    pause: SqlStr,
    resume: SqlStr,
    list: SqlStr,
    paused: SqlStr,
}

impl QueueSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            pause: render(PAUSE, schema),
            resume: render(RESUME, schema),
            list: render(LIST, schema),
            paused: render(PAUSED, schema),
        }
    }
}

/// Pauses `queue`; returns whether it was running.
pub(crate) async fn pause(pool: &PgPool, sql: &QueueSql, queue: &str) -> Result<bool> {
    let rows = sqlx::query(sql.pause.clone())
        .bind(queue)
        .fetch_all(pool)
        .await
        .map_err(Error::db(format!("pause queue `{queue}`")))?;
    Ok(!rows.is_empty())
}

/// Resumes `queue` and notifies its workers; returns whether it was paused.
pub(crate) async fn resume(
    pool: &PgPool,
    sql: &QueueSql,
    channel: &str,
    queue: &str,
) -> Result<bool> {
    let rows = sqlx::query(sql.resume.clone())
        .bind(queue)
        .bind(channel)
        .fetch_all(pool)
        .await
        .map_err(Error::db(format!("resume queue `{queue}`")))?;
    Ok(!rows.is_empty())
}

/// Every queue with jobs or a pause record, by name.
pub(crate) async fn list(pool: &PgPool, sql: &QueueSql) -> Result<Vec<QueueInfo>> {
    let rows = sqlx::query(sql.list.clone())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list queues"))?;
    rows.iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let paused: bool = row.try_get(1)?;
            Ok(QueueInfo::new(name, paused))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(Error::db("read the queue list"))
}

/// The paused queues, by name.
pub(crate) async fn paused(pool: &PgPool, sql: &QueueSql) -> Result<Vec<String>> {
    sqlx::query_scalar(sql.paused.clone())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list paused queues"))
}
