//! Jobs that wait on parents (`.after(id)`) and batches, on PostgreSQL.
//!
//! Storing a job with parents takes one transaction: the parents' rows are
//! locked and marked `has_children` first (which reads their state as of
//! that moment and makes any statement ending them wait for this commit,
//! whose waits it will then see), the jobs are inserted, and jobs-core's
//! [`judge_parents`] decides each new job's state: released at once,
//! `awaiting` with one `job_waits` row per unfinished parent, or cancelled
//! because a parent it needed completed already failed. What happens when
//! a parent ends is the migration's `jobs_settle_children` function, which
//! every statement that ends a job calls for the rows marked
//! `has_children`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jobs_core::backend::{
    BatchInsertParams, InsertedBatch, JobParent, NewJob, ParentCondition, ParentVerdict,
    broken_error, dedup_parents, judge_parents,
};
use jobs_core::{BatchId, BatchInfo, JobId, JobState};
use sqlx::{Connection, PgConnection, PgPool, Row, SqlStr};

use crate::insert::{InsertSql, Stored, insert_many, insert_many_tracked, insert_rows_tracked};
use crate::schema::render;
use crate::{Error, Result};

const LOCK_PARENTS: &str = "
UPDATE {schema}.jobs SET has_children = true
WHERE id = ANY($1)
RETURNING id, state";

const RELATE: &str = "
UPDATE {schema}.jobs j
SET parents = u.parents,
    state = COALESCE(u.state, j.state),
    finished_at = CASE WHEN u.state = 'cancelled' THEN now() ELSE j.finished_at END,
    errors = CASE WHEN u.error IS NULL THEN j.errors
                  ELSE j.errors || jsonb_build_array(u.error::jsonb) END
FROM (SELECT id, string_to_array(parents, ',')::bigint[] AS parents, state, error
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS t(id, parents, state, error)) u
WHERE j.id = u.id";

const WAIT: &str = "
INSERT INTO {schema}.job_waits (parent, child, needs_completed)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[])
ON CONFLICT DO NOTHING";

const NEW_BATCH: &str = "INSERT INTO {schema}.batches DEFAULT VALUES RETURNING id, created_at";

const JOIN_BATCH: &str = "UPDATE {schema}.jobs SET batch_id = $1 WHERE id = ANY($2)";

const BATCH_CALLBACKS: &str =
    "UPDATE {schema}.batches SET on_success = $2, on_complete = $3 WHERE id = $1";

const BATCH: &str =
    "SELECT created_at, on_success, on_complete FROM {schema}.batches WHERE id = $1";

const BATCH_COUNTS: &str = "
SELECT state, count(*), max(finished_at)
FROM {schema}.jobs WHERE batch_id = $1
GROUP BY state";

/// The rendered statements of one schema.
#[derive(Debug)]
pub(crate) struct ParentsSql {
    lock_parents: SqlStr,
    relate: SqlStr,
    wait: SqlStr,
    new_batch: SqlStr,
    join_batch: SqlStr,
    batch_callbacks: SqlStr,
    batch: SqlStr,
    batch_counts: SqlStr,
}

impl ParentsSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            lock_parents: render(LOCK_PARENTS, schema),
            relate: render(RELATE, schema),
            wait: render(WAIT, schema),
            new_batch: render(NEW_BATCH, schema),
            join_batch: render(JOIN_BATCH, schema),
            batch_callbacks: render(BATCH_CALLBACKS, schema),
            batch: render(BATCH, schema),
            batch_counts: render(BATCH_COUNTS, schema),
        }
    }
}

/// Stores `jobs`, some of which name parents, atomically (in a
/// transaction, or a savepoint of the one `conn` is in); an unknown parent
/// fails it with [`Error::UnknownParent`] and nothing is stored.
pub(crate) async fn insert_waiting(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Stored> {
    // its own transaction (a savepoint inside the caller's): on a plain
    // connection (`enqueue_tx` allows one) the lock on the parents must
    // last until the waits are stored, and nothing may be left half done
    let context = || format!("store {} jobs with parents", jobs.len());
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    let stored = insert_waiting_in(&mut tx, sql, jobs).await?;
    tx.commit().await.map_err(Error::db(context()))?;
    Ok(stored)
}

async fn insert_waiting_in(
    conn: &mut PgConnection,
    sql: &InsertSql,
    jobs: &[NewJob],
) -> Result<Stored> {
    let parents = &sql.parents;
    let states = lock_parents(conn, parents, jobs).await?;
    let stored = insert_rows_tracked(conn, sql, jobs).await?;
    let now = chrono::Utc::now();
    let mut relate = Relate::default();
    for ((job, &id), &fresh) in jobs.iter().zip(&stored.ids).zip(&stored.fresh) {
        if !fresh || job.parents.is_empty() {
            continue;
        }
        let verdict = judge_parents(&job.parents, |parent| states.get(&parent).copied())
            .map_err(Error::UnknownParent)?;
        relate.push(id, &job.parents, verdict, now)?;
    }
    relate.store(conn, parents).await?;
    Ok(stored)
}

/// Locks the parents `jobs` name, marks them as having children, and
/// returns their states.
async fn lock_parents(
    conn: &mut PgConnection,
    sql: &ParentsSql,
    jobs: &[NewJob],
) -> Result<HashMap<JobId, JobState>> {
    let mut ids: Vec<i64> = jobs
        .iter()
        .flat_map(|job| &job.parents)
        .map(|parent| parent.id.get())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = sqlx::query(sql.lock_parents.clone())
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db(format!("lock {} parent jobs", ids.len())))?;
    let mut states = HashMap::with_capacity(rows.len());
    for row in rows {
        let read = |error| Error::db("read parent jobs")(error);
        let id: i64 = row.try_get(0).map_err(read)?;
        let state: String = row.try_get(1).map_err(read)?;
        let state: JobState = state
            .parse()
            .map_err(|error| Error::decode("parent job state", error))?;
        states.insert(JobId::new(id), state);
    }
    let unknown = jobs
        .iter()
        .flat_map(|job| &job.parents)
        .find(|parent| !states.contains_key(&parent.id));
    match unknown {
        Some(parent) => Err(Error::UnknownParent(parent.id)),
        None => Ok(states),
    }
}

/// The parents, states and waits of newly stored jobs, as columns.
#[derive(Default)]
struct Relate {
    ids: Vec<i64>,
    parents: Vec<String>,
    states: Vec<Option<&'static str>>,
    errors: Vec<Option<String>>,
    wait_parents: Vec<i64>,
    wait_children: Vec<i64>,
    wait_completed: Vec<bool>,
}

impl Relate {
    fn push(
        &mut self,
        id: JobId,
        parents: &[JobParent],
        verdict: ParentVerdict,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (state, error) = match verdict {
            ParentVerdict::Ready => (None, None),
            ParentVerdict::Waiting(waiting) => {
                for parent in waiting {
                    self.wait_parents.push(parent.id.get());
                    self.wait_children.push(id.get());
                    self.wait_completed
                        .push(parent.condition == ParentCondition::Completed);
                }
                (Some(JobState::Awaiting.as_str()), None)
            }
            ParentVerdict::Broken { parent, end } => {
                let error = serde_json::to_string(&broken_error(parent, end, 0, now))
                    .map_err(|e| Error::decode("attempt error", e))?;
                (Some(JobState::Cancelled.as_str()), Some(error))
            }
        };
        self.ids.push(id.get());
        self.parents.push(
            parents
                .iter()
                .map(|parent| parent.id.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        self.states.push(state);
        self.errors.push(error);
        Ok(())
    }

    async fn store(self, conn: &mut PgConnection, sql: &ParentsSql) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let count = self.ids.len();
        sqlx::query(sql.relate.clone())
            .bind(self.ids)
            .bind(self.parents)
            .bind(self.states)
            .bind(self.errors)
            .execute(&mut *conn)
            .await
            .map_err(Error::db(format!("record the parents of {count} jobs")))?;
        if self.wait_children.is_empty() {
            return Ok(());
        }
        sqlx::query(sql.wait.clone())
            .bind(self.wait_parents)
            .bind(self.wait_children)
            .bind(self.wait_completed)
            .execute(&mut *conn)
            .await
            .map_err(Error::db(format!("record what {count} jobs wait for")))?;
        Ok(())
    }
}

/// Stores a batch inside the transaction `conn` is in.
pub(crate) async fn insert_batch(
    conn: &mut PgConnection,
    sql: &InsertSql,
    params: BatchInsertParams,
) -> Result<InsertedBatch> {
    let parents_sql = &sql.parents;
    let row = sqlx::query(parents_sql.new_batch.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("create a batch"))?;
    let id: i64 = row.try_get(0).map_err(Error::db("read the new batch"))?;
    let BatchInsertParams {
        jobs,
        on_success,
        on_complete,
        mode: _,
    } = params;
    let stored = insert_many_tracked(conn, sql, &jobs).await?;
    let ids = stored.ids;
    // a unique job whose holder was returned stays out of the batch
    let members: Vec<i64> = ids
        .iter()
        .zip(&stored.fresh)
        .filter(|&(_, &fresh)| fresh)
        .map(|(id, _)| id.get())
        .collect();
    sqlx::query(parents_sql.join_batch.clone())
        .bind(id)
        .bind(&members)
        .execute(&mut *conn)
        .await
        .map_err(Error::db(format!(
            "add {} jobs to batch {id}",
            members.len()
        )))?;
    let mut callback = async |job: Option<NewJob>, condition| -> Result<Option<JobId>> {
        let Some(mut job) = job else {
            return Ok(None);
        };
        job.parents
            .extend(ids.iter().map(|&id| JobParent { id, condition }));
        dedup_parents(&mut job.parents);
        let stored = insert_many(conn, sql, std::slice::from_ref(&job)).await?;
        Ok(stored.into_iter().next())
    };
    let on_success = callback(on_success, ParentCondition::Completed).await?;
    let on_complete = callback(on_complete, ParentCondition::Finished).await?;
    sqlx::query(parents_sql.batch_callbacks.clone())
        .bind(id)
        .bind(on_success.map(JobId::get))
        .bind(on_complete.map(JobId::get))
        .execute(&mut *conn)
        .await
        .map_err(Error::db(format!("record the callbacks of batch {id}")))?;
    Ok(InsertedBatch {
        id: BatchId::new(id),
        jobs: ids,
        on_success,
        on_complete,
    })
}

/// A batch's jobs counted by state.
pub(crate) async fn batch(
    pool: &PgPool,
    sql: &ParentsSql,
    id: BatchId,
) -> Result<Option<BatchInfo>> {
    let context = || format!("read batch {id}");
    let Some(row) = sqlx::query(sql.batch.clone())
        .bind(id.get())
        .fetch_optional(pool)
        .await
        .map_err(Error::db(context()))?
    else {
        return Ok(None);
    };
    let read = |error| Error::db(format!("read batch {id}"))(error);
    let created_at: DateTime<Utc> = row.try_get(0).map_err(read)?;
    let on_success: Option<i64> = row.try_get(1).map_err(read)?;
    let on_complete: Option<i64> = row.try_get(2).map_err(read)?;
    let mut info = BatchInfo::new(id, created_at)
        .with_callbacks(on_success.map(JobId::new), on_complete.map(JobId::new));
    let rows = sqlx::query(sql.batch_counts.clone())
        .bind(id.get())
        .fetch_all(pool)
        .await
        .map_err(Error::db(context()))?;
    for row in rows {
        let read = |error| Error::db(format!("count the jobs of batch {id}"))(error);
        let state: String = row.try_get(0).map_err(read)?;
        let count: i64 = row.try_get(1).map_err(read)?;
        let finished_at: Option<DateTime<Utc>> = row.try_get(2).map_err(read)?;
        let state: JobState = state
            .parse()
            .map_err(|error| Error::decode("job state", error))?;
        info = info.count(state, u64::try_from(count).unwrap_or(0), finished_at);
    }
    Ok(Some(info))
}
