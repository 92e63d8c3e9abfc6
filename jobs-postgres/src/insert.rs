//! Storing jobs: any number in one statement, unique jobs enforced by the
//! database, one notification per statement.
//!
//! The statement unnests one array per column, inserts in input order and
//! skips rows that collide with an unfinished job of the same kind and
//! unique key (`ON CONFLICT DO NOTHING` on a partial unique index over the
//! key's hash: when the colliding insert belongs to a transaction still
//! open, PostgreSQL waits for it, so a rollback there lets this insert
//! through). Colliding rows are then answered with the existing job's id.
//! A batch without unique keys has nothing to arbitrate and is stored
//! without the `ON CONFLICT` clause, which would make every row a
//! speculative insertion.
//!
//! When the job a row collided with finishes before its id is read, the row
//! is inserted in another round, so a batch may take several statements.
//! On a connection outside a transaction each would commit on its own, and
//! a failure in a later round would leave the earlier rounds' jobs stored;
//! [`insert_many_atomically`] runs such a batch in a transaction of its own.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jobs_core::JobId;
use jobs_core::backend::NewJob;
use sqlx::{Connection, PgConnection, Row, SqlStr};

use crate::parents::{self, ParentsSql};
use crate::schema::render;
use crate::{Error, Result};

/// Unfinished states, as the partial unique index names them.
pub(crate) const UNFINISHED: &str =
    "('awaiting', 'scheduled', 'available', 'running', 'retryable')";

/// The columns both insert statements fill, in the order of their values.
const COLUMNS: &str = "kind, queue, args, state, priority, max_attempts, scheduled_at, \
                       unique_key, version, concurrency_key";

/// The rows stored: one array per column unnested in input order, and
/// inserted in that order. Followed by one of the two tails below.
const INSERT: &str = "
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::integer[],
                         $6::timestamptz[], $7::text[], $9::integer[], $10::text[])
        WITH ORDINALITY AS t(kind, queue, args, priority, max_attempts, scheduled_at, unique_key,
                             version, concurrency_key, ord)
),
inserted AS (
    INSERT INTO {schema}.jobs ({columns})
    SELECT kind, queue, args::jsonb,
           CASE WHEN scheduled_at > now() THEN 'scheduled' ELSE 'available' END,
           priority, max_attempts, COALESCE(scheduled_at, now()), unique_key, version,
           concurrency_key
    FROM input
    ORDER BY ord
    {on_conflict}
    RETURNING {returning}
)";

/// [`INSERT`]'s tail where rows may collide: each stored row's id, kind and
/// key, to tell the collided rows apart, and one notification per
/// statement naming the queues that got ready jobs or jobs due later (an
/// idle worker's claim then learns when to look). Inside a transaction it
/// is delivered at commit, or never. The queues are made distinct from
/// the stored rows, since a collided row stored nothing (PostgreSQL sorts
/// the rows for it).
const UNIQUE_TAIL: &str = "
SELECT id, kind, unique_key FROM inserted
UNION ALL
SELECT NULL, NULL, NULL FROM (
    SELECT pg_notify($8, string_agg(queue, ',')) FROM (
        SELECT DISTINCT queue FROM inserted WHERE state IN ('available', 'scheduled')
    ) AS ready
    HAVING count(*) > 0
) AS notified";

/// [`INSERT`]'s tail where every row is stored (no unique keys): the ids in
/// one array, one row instead of a row per job, and the notification
/// naming the batch's queues as `$11`, made distinct by the caller, sent
/// once some row was stored. (Made distinct from the stored rows, the
/// queues took a sort of the whole batch: about 7 % of the statement's
/// server time for 5,000 rows.)
const PLAIN_TAIL: &str = "
SELECT array_agg(id),
       (SELECT count(*) FROM (
            SELECT pg_notify($8, $11) FROM (SELECT FROM inserted LIMIT 1) AS stored
        ) AS notified)
FROM inserted";

/// One job without a unique key: the common single enqueue. The row
/// [`INSERT`] with the [`PLAIN_TAIL`] would store, from plain parameters
/// (`$3` is the arguments' JSON text, `$6` the due time or NULL, `$9` the
/// channel), and the notification naming its queue. Without the arrays,
/// their unnesting, the sort by ordinality and the tail's aggregate, its
/// server time in `pg-latency` fell from 0.062–0.075 to 0.051–0.058 ms
/// (`pg_stat_statements`, three interleaved runs of each build).
const INSERT_ONE: &str = "
INSERT INTO {schema}.jobs ({columns})
VALUES ($1, $2, $3::text::jsonb,
        CASE WHEN $6::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
        $4, $5, COALESCE($6::timestamptz, now()), NULL, $7, $8)
RETURNING id, pg_notify($9, $2)";

const EXISTING: &str = "
SELECT j.id, j.kind, j.unique_key
FROM {schema}.jobs j
JOIN unnest($1::text[], $2::text[]) AS k(kind, unique_key)
  ON j.kind = k.kind AND md5(j.unique_key) = md5(k.unique_key) AND j.unique_key = k.unique_key
WHERE j.unique_key IS NOT NULL AND j.state IN {unfinished}";

/// What [`INSERT`] does with a row that collides with an unfinished unique
/// job: nothing, so the row is answered with that job's id.
const ON_CONFLICT: &str = "ON CONFLICT (kind, md5(unique_key))
        WHERE unique_key IS NOT NULL AND state IN {unfinished}
    DO NOTHING";

/// How often colliding rows are tried again when the job they collided
/// with finished before its id could be read.
const MAX_ROUNDS: usize = 5;

/// The rendered insert statements of one schema.
#[derive(Debug)]
pub(crate) struct InsertSql {
    insert: SqlStr,
    /// [`INSERT`] for jobs without unique keys: no conflict to arbitrate
    /// (`ON CONFLICT` makes every row a speculative insertion, a tenth of
    /// the cost of a bulk insert), and only the ids read back.
    insert_plain: SqlStr,
    /// [`INSERT_ONE`]: one job without a unique key.
    insert_one: SqlStr,
    existing: SqlStr,
    pub(crate) channel: String,
    pub(crate) parents: ParentsSql,
}

impl InsertSql {
    pub(crate) fn new(schema: &str, channel: &str) -> Self {
        let fill = |template: &str| {
            let template = template
                .replace("{unfinished}", UNFINISHED)
                .replace("{columns}", COLUMNS);
            render(&template, schema)
        };
        Self {
            insert: fill(
                &(INSERT
                    .replace("{on_conflict}", ON_CONFLICT)
                    .replace("{returning}", "id, kind, unique_key, queue, state")
                    + UNIQUE_TAIL),
            ),
            insert_plain: fill(
                &(INSERT
                    .replace("{on_conflict}", "")
                    .replace("{returning}", "id")
                    + PLAIN_TAIL),
            ),
            insert_one: fill(INSERT_ONE),
            existing: fill(EXISTING),
            channel: channel.to_owned(),
            parents: ParentsSql::new(schema),
        }
    }
}

/// Stores `jobs` in order on `conn`, a pooled connection outside any
/// transaction, all or nothing, and returns their ids (see
/// [`insert_many`]).
///
/// Only a batch that may take more than one statement gets a transaction
/// (and its two extra round trips): one of several jobs with a unique key.
/// A batch without unique keys is stored by its one statement, and a single
/// job by exactly one statement or none.
pub(crate) async fn insert_many_atomically(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Vec<JobId>> {
    // (jobs with parents take a transaction of their own in any case)
    let rounds_possible = jobs.len() > 1 && jobs.iter().any(|job| job.unique_key.is_some());
    if !rounds_possible {
        return insert_many(conn, sql, jobs).await;
    }
    let context = || format!("store {} jobs in one transaction", jobs.len());
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    let ids = insert_many(&mut tx, sql, jobs).await?;
    tx.commit().await.map_err(Error::db(context()))?;
    Ok(ids)
}

/// Stores `jobs` in order on `conn` (the caller's transaction, or a
/// connection where [`insert_many_atomically`] decided none is needed) and
/// returns their ids; a unique job that already exists unfinished gets the
/// existing id. Jobs with parents take [`parents::insert_waiting`]'s way,
/// which is atomic on its own.
pub(crate) async fn insert_many(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Vec<JobId>> {
    Ok(insert_many_tracked(conn, sql, jobs).await?.ids)
}

/// [`insert_many`], saying which jobs this insert stored.
pub(crate) async fn insert_many_tracked(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Stored> {
    if jobs.iter().any(|job| !job.parents.is_empty()) {
        return parents::insert_waiting(conn, sql, jobs).await;
    }
    insert_rows_tracked(conn, sql, jobs).await
}

/// What [`insert_rows_tracked`] stored.
pub(crate) struct Stored {
    /// Each job's id, in input order.
    pub(crate) ids: Vec<JobId>,
    /// Whether each job was stored by this insert (`false`: a unique job
    /// whose holder's id was returned).
    pub(crate) fresh: Vec<bool>,
}

/// Stores `jobs` in order, as they are (parents are not judged), and says
/// which were stored.
pub(crate) async fn insert_rows_tracked(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Stored> {
    if let [job] = jobs
        && job.unique_key.is_none()
    {
        let id = insert_plain_row(conn, sql, job).await?;
        return Ok(Stored {
            ids: vec![id],
            fresh: vec![true],
        });
    }
    if jobs.iter().all(|job| job.unique_key.is_none()) {
        let batch: Vec<&NewJob> = jobs.iter().collect();
        let ids = insert_plain_rows(conn, sql, &batch).await?;
        return Ok(Stored {
            fresh: vec![true; ids.len()],
            ids,
        });
    }
    let mut ids: Vec<Option<JobId>> = vec![None; jobs.len()];
    let mut fresh = vec![false; jobs.len()];
    let mut pending: Vec<usize> = (0..jobs.len()).collect();
    for _ in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let batch: Vec<&NewJob> = pending.iter().map(|&index| &jobs[index]).collect();
        let inserted = insert_rows(conn, sql, &batch).await?;
        let collided = assign_inserted(&pending, jobs, inserted, &mut ids)?;
        for &index in &pending {
            fresh[index] = ids[index].is_some();
        }
        if collided.is_empty() {
            break;
        }
        let existing = existing_ids(conn, sql, jobs, &collided).await?;
        pending = collided
            .into_iter()
            .filter(|&index| {
                let job = &jobs[index];
                match job
                    .unique_key
                    .as_ref()
                    .and_then(|key| existing.get(&(job.kind.to_string(), key.clone())).copied())
                {
                    Some(id) => {
                        ids[index] = Some(id);
                        false
                    }
                    // it finished in between: insert it after all
                    None => true,
                }
            })
            .collect();
    }
    let ids = ids
        .into_iter()
        .enumerate()
        .map(|(index, id)| {
            id.ok_or_else(|| {
                Error::decode(
                    format!("unique job `{}`", jobs[index].kind),
                    "the job it collided with kept finishing before its id could be read; try again",
                )
            })
        })
        .collect::<Result<_>>()?;
    Ok(Stored { ids, fresh })
}

/// One inserted row: its id, kind and unique key.
type Inserted = (i64, String, Option<String>);

/// Stores jobs none of which has a unique key; returns their ids in
/// input order.
async fn insert_plain_rows(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[&NewJob],
) -> Result<Vec<JobId>> {
    let row = bind_columns(sqlx::query(sql.insert_plain.clone()), &sql.channel, jobs)
        .bind(distinct_queues(jobs))
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db(describe(jobs)))?;
    let ids: Option<Vec<i64>> = row.try_get(0).map_err(Error::db("read inserted ids"))?;
    let mut ids: Vec<JobId> = ids
        .unwrap_or_default()
        .into_iter()
        .map(JobId::new)
        .collect();
    // Ids come from one sequence in insertion order, which is input order.
    ids.sort_unstable();
    if ids.len() != jobs.len() {
        return Err(Error::decode(
            "inserted job ids",
            format!("{} of {} jobs were stored", ids.len(), jobs.len()),
        ));
    }
    Ok(ids)
}

/// Stores one job without a unique key; returns its id.
async fn insert_plain_row(conn: &mut PgConnection, sql: &InsertSql, job: &NewJob) -> Result<JobId> {
    let row = sqlx::query(sql.insert_one.clone())
        .bind(job.kind.as_ref())
        .bind(job.queue.as_ref())
        .bind(job.args.as_str())
        .bind(job.priority)
        .bind(i32::try_from(job.max_attempts).unwrap_or(i32::MAX))
        .bind(job.scheduled_at)
        .bind(i32::try_from(job.version).unwrap_or(i32::MAX))
        .bind(job.concurrency_key.as_deref())
        .bind(sql.channel.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db(describe(&[job])))?;
    let id: i64 = row.try_get(0).map_err(Error::db("read the inserted id"))?;
    Ok(JobId::new(id))
}

/// The queues of `jobs`, each once, in order of first appearance, joined
/// by commas: the notification's payload.
fn distinct_queues(jobs: &[&NewJob]) -> String {
    let mut seen = HashSet::new();
    let mut queues = Vec::new();
    let mut last = None;
    for job in jobs {
        let queue: &str = &job.queue;
        // a batch is mostly one queue: no lookup while it does not change
        if last != Some(queue) && seen.insert(queue) {
            queues.push(queue);
        }
        last = Some(queue);
    }
    queues.join(",")
}

/// [`INSERT`]'s parameters: one array per column, and the channel.
fn bind_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    channel: &'q str,
    jobs: &[&'q NewJob],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let kinds: Vec<&str> = jobs.iter().map(|job| job.kind.as_ref()).collect();
    let queues: Vec<&str> = jobs.iter().map(|job| job.queue.as_ref()).collect();
    let args: Vec<&str> = jobs.iter().map(|job| job.args.as_str()).collect();
    let priorities: Vec<i16> = jobs.iter().map(|job| job.priority).collect();
    let max_attempts: Vec<i32> = jobs
        .iter()
        .map(|job| i32::try_from(job.max_attempts).unwrap_or(i32::MAX))
        .collect();
    let scheduled: Vec<Option<DateTime<Utc>>> = jobs.iter().map(|job| job.scheduled_at).collect();
    let unique: Vec<Option<&str>> = jobs.iter().map(|job| job.unique_key.as_deref()).collect();
    let concurrency_keys: Vec<Option<&str>> = jobs
        .iter()
        .map(|job| job.concurrency_key.as_deref())
        .collect();
    let versions: Vec<i32> = jobs
        .iter()
        .map(|job| i32::try_from(job.version).unwrap_or(i32::MAX))
        .collect();
    query
        .bind(kinds)
        .bind(queues)
        .bind(args)
        .bind(priorities)
        .bind(max_attempts)
        .bind(scheduled)
        .bind(unique)
        .bind(channel)
        .bind(versions)
        .bind(concurrency_keys)
}

async fn insert_rows(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[&NewJob],
) -> Result<Vec<Inserted>> {
    let rows = bind_columns(sqlx::query(sql.insert.clone()), &sql.channel, jobs)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db(describe(jobs)))?;
    let mut inserted = Vec::with_capacity(rows.len());
    for row in rows {
        let id: Option<i64> = row.try_get(0).map_err(Error::db("read inserted ids"))?;
        let Some(id) = id else { continue };
        let kind: String = row.try_get(1).map_err(Error::db("read inserted ids"))?;
        let key: Option<String> = row.try_get(2).map_err(Error::db("read inserted ids"))?;
        inserted.push((id, kind, key));
    }
    // Ids come from one sequence in insertion order, which is input order.
    inserted.sort_unstable_by_key(|(id, _, _)| *id);
    Ok(inserted)
}

/// Gives each pending row its inserted id; returns the rows that collided.
fn assign_inserted(
    pending: &[usize],
    jobs: &[NewJob],
    inserted: Vec<Inserted>,
    ids: &mut [Option<JobId>],
) -> Result<Vec<usize>> {
    let mut inserted = inserted.into_iter().peekable();
    let mut collided = Vec::new();
    for &index in pending {
        let job = &jobs[index];
        let matches = inserted.peek().is_some_and(|(_, kind, key)| {
            *kind == job.kind && key.as_deref() == job.unique_key.as_deref()
        });
        if matches {
            if let Some((id, _, _)) = inserted.next() {
                ids[index] = Some(JobId::new(id));
            }
        } else if job.unique_key.is_some() {
            collided.push(index);
        } else {
            return Err(Error::decode(
                "inserted job ids",
                format!("job `{}` without a unique key was not inserted", job.kind),
            ));
        }
    }
    Ok(collided)
}

async fn existing_ids(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
    collided: &[usize],
) -> Result<HashMap<(String, String), JobId>> {
    let kinds: Vec<&str> = collided.iter().map(|&i| jobs[i].kind.as_ref()).collect();
    let keys: Vec<&str> = collided
        .iter()
        .map(|&i| jobs[i].unique_key.as_deref().unwrap_or_default())
        .collect();
    let rows = sqlx::query(sql.existing.clone())
        .bind(kinds)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db("look up existing unique jobs"))?;
    let mut existing = HashMap::with_capacity(rows.len());
    for row in rows {
        let read = |error| Error::db("read existing unique jobs")(error);
        let id: i64 = row.try_get(0).map_err(read)?;
        let kind: String = row.try_get(1).map_err(read)?;
        let key: String = row.try_get(2).map_err(read)?;
        existing.insert((kind, key), JobId::new(id));
    }
    Ok(existing)
}

fn describe(jobs: &[&NewJob]) -> String {
    match jobs {
        [job] => format!("store job `{}` on queue `{}`", job.kind, job.queue),
        _ => format!("store {} jobs", jobs.len()),
    }
}
