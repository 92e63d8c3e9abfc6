//! Storing the transitions jobs-core decided for ended runs (outcomes, and
//! rescues of expired leases) in batches, renewing leases, and recording the
//! progress runs report.
//!
//! Both statements are fenced: they touch a row only while it is `running`
//! at the attempt the worker reports, so a worker that stalled past its
//! lease (and whose job was rescued and claimed again) cannot overwrite the
//! newer attempt. Ids are sorted so concurrent batches lock rows in the same
//! order and cannot deadlock.
//!
//! Each statement joins the rows to an `unnest` of arrays and must look
//! each row up by id. The fence compares the state with `(SELECT
//! 'running')` rather than the literal: with the literal the planner may
//! match the partial index over running rows, or trust statistics that saw
//! few running rows, and walk every running row once per array element (a
//! batch of a thousand took from 0.4 to 4 s); a value known only at run time
//! leaves it the lookup by primary key (7 ms), in generic and custom plans
//! alike. The statements stay prepared: one round trip each.

use chrono::{DateTime, Utc};
use jobs_core::backend::{JobHeartbeatParams, JobProgressManyParams, JobTransition};
use jobs_core::{JobId, JobState};
use sqlx::{PgConnection, SqlStr};
use std::collections::BTreeSet;

use crate::schema::render;
use crate::{Error, Result};

const COMPLETE: &str = "
WITH done AS (
UPDATE {schema}.jobs j
SET state = c.state,
    attempt = CASE WHEN c.uncount THEN j.attempt - 1 ELSE j.attempt END,
    scheduled_at = COALESCE(c.scheduled_at, j.scheduled_at),
    finished_at = CASE WHEN c.state IN ('completed', 'dead', 'cancelled') THEN now() END,
    errors = CASE WHEN c.error IS NULL THEN j.errors
                  ELSE j.errors || jsonb_build_array(c.error::jsonb) END,
    leased_until = NULL,
    worker_id = NULL
FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::timestamptz[], $5::text[], $6::boolean[])
    AS c(id, attempt, state, scheduled_at, error, uncount)
WHERE j.id = c.id AND j.state = (SELECT 'running') AND j.attempt = c.attempt{fence}
RETURNING j.id, j.queue, j.state, j.has_children
)
-- one row: how many applied, the queues that got a job back to wait, and
-- the children of jobs that ended, settled in the same statement (jobs
-- nobody waits on never call it)
SELECT count(*),
       array_agg(DISTINCT queue) FILTER (WHERE state IN ('available', 'scheduled', 'retryable')),
       (SELECT {schema}.jobs_settle_children(array_agg(id), array_agg(state), $7)
        FROM done
        WHERE has_children AND state IN ('completed', 'dead', 'cancelled')
        HAVING count(*) > 0)
FROM done";

/// [`COMPLETE`] for a batch of plain successes (every run `Completed`,
/// counted, without an error or a new due time), which is nearly every
/// batch under load: the same rows end the same way, from two arrays
/// instead of six and without the per-row `CASE`s (a tenth of the
/// completion's server time in a drain). None goes back to wait, so there
/// are no queues to report.
const SUCCEEDED: &str = "
WITH done AS (
UPDATE {schema}.jobs j
SET state = 'completed',
    finished_at = now(),
    leased_until = NULL,
    worker_id = NULL
FROM unnest($1::bigint[], $2::integer[]) AS c(id, attempt)
WHERE j.id = c.id AND j.state = (SELECT 'running') AND j.attempt = c.attempt
RETURNING j.id, j.has_children
)
SELECT count(*),
       (SELECT {schema}.jobs_settle_children(array_agg(id), array_agg('completed'::text), $3)
        FROM done
        WHERE has_children
        HAVING count(*) > 0)
FROM done";

/// The rescue's extra fence: the lease is still expired, so a heartbeat
/// that renewed it after the rescuer listed it wins.
const LEASE_EXPIRED: &str = " AND j.leased_until < now()";

const HEARTBEAT: &str = "
WITH running AS (
    SELECT * FROM unnest($1::bigint[], $2::integer[]) AS r(id, attempt)
),
renewed AS (
    UPDATE {schema}.jobs j
    SET leased_until = now() + make_interval(secs => $3)
    FROM running r
    WHERE j.id = r.id AND j.state = (SELECT 'running') AND j.attempt = r.attempt
    RETURNING j.id
)
SELECT id FROM running WHERE id NOT IN (SELECT id FROM renewed)";

const PROGRESS: &str = "
UPDATE {schema}.jobs j
SET progress = p.progress
FROM unnest($1::bigint[], $2::integer[], $3::real[]) AS p(id, attempt, progress)
WHERE j.id = p.id AND j.state = (SELECT 'running') AND j.attempt = p.attempt";

/// The rendered completion statements of one schema.
#[derive(Debug)]
pub(crate) struct CompleteSql {
    channel: String,
    complete: SqlStr,
    succeeded: SqlStr,
    rescue: SqlStr,
    heartbeat: SqlStr,
    progress: SqlStr,
}

impl CompleteSql {
    pub(crate) fn new(schema: &str, channel: &str) -> Self {
        Self {
            channel: channel.to_owned(),
            complete: render(&COMPLETE.replace("{fence}", ""), schema),
            succeeded: render(SUCCEEDED, schema),
            rescue: render(&COMPLETE.replace("{fence}", LEASE_EXPIRED), schema),
            heartbeat: render(HEARTBEAT, schema),
            progress: render(PROGRESS, schema),
        }
    }
}

/// One transition as the statement's columns.
struct Columns {
    id: i64,
    attempt: i32,
    state: &'static str,
    scheduled_at: Option<DateTime<Utc>>,
    error: Option<String>,
    uncount: bool,
}

fn columns(transition: &JobTransition) -> Result<Columns> {
    let error = match &transition.error {
        Some(error) => {
            Some(serde_json::to_string(error).map_err(|e| Error::decode("attempt error", e))?)
        }
        None => None,
    };
    Ok(Columns {
        id: transition.run.id.get(),
        attempt: i32::try_from(transition.run.attempt).unwrap_or(i32::MAX),
        state: transition.state.as_str(),
        scheduled_at: transition.scheduled_at,
        error,
        uncount: !transition.attempt_counted,
    })
}

/// Which runs a batch of transitions may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fence {
    /// Runs still `Running` at their attempt: outcomes.
    Running,
    /// Those whose lease is also expired: rescues.
    LeaseExpired,
}

/// Stores the transitions, each fenced; returns how many applied, and the
/// queues that got a job back to wait (a release, a retry, a snooze), so
/// their idle fetch loops look again and learn when it is due instead of
/// sleeping a whole poll interval.
pub(crate) async fn transition_many(
    conn: &mut PgConnection,
    sql: &CompleteSql,
    transitions: &[JobTransition],
    fence: Fence,
) -> Result<(u64, BTreeSet<String>)> {
    if transitions.is_empty() {
        return Ok((0, BTreeSet::new()));
    }
    if fence == Fence::Running && transitions.iter().all(is_plain_success) {
        return succeeded_many(conn, sql, transitions).await;
    }
    let mut rows = transitions
        .iter()
        .map(columns)
        .collect::<Result<Vec<_>>>()?;
    rows.sort_unstable_by_key(|row| row.id);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let attempts: Vec<i32> = rows.iter().map(|r| r.attempt).collect();
    let states: Vec<&str> = rows.iter().map(|r| r.state).collect();
    let scheduled: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.scheduled_at).collect();
    let uncount: Vec<bool> = rows.iter().map(|r| r.uncount).collect();
    let errors: Vec<Option<String>> = rows.into_iter().map(|r| r.error).collect();
    let (statement, what) = match fence {
        Fence::Running => (&sql.complete, "outcome"),
        Fence::LeaseExpired => (&sql.rescue, "rescue"),
    };
    let context = recording(what, transitions);
    let (count, ready, _settled): (i64, Option<Vec<String>>, Option<i32>) =
        sqlx::query_as(statement.clone())
            .bind(ids)
            .bind(attempts)
            .bind(states)
            .bind(scheduled)
            .bind(errors)
            .bind(uncount)
            .bind(&sql.channel)
            .fetch_one(conn)
            .await
            .map_err(Error::db(context))?;
    Ok((
        u64::try_from(count).unwrap_or(0),
        ready.unwrap_or_default().into_iter().collect(),
    ))
}

/// What a failed statement was recording, for its error.
fn recording(what: &str, transitions: &[JobTransition]) -> String {
    match transitions {
        [one] => format!("record the {what} of job {}", one.run.id),
        _ => format!("record the {what}s of {} jobs", transitions.len()),
    }
}

/// A counted run that ended `Completed`, without an error or a new due
/// time: what [`SUCCEEDED`] stores.
fn is_plain_success(transition: &JobTransition) -> bool {
    transition.state == JobState::Completed
        && transition.attempt_counted
        && transition.error.is_none()
        && transition.scheduled_at.is_none()
}

/// [`transition_many`] for plain successes: none goes back to wait.
async fn succeeded_many(
    conn: &mut PgConnection,
    sql: &CompleteSql,
    transitions: &[JobTransition],
) -> Result<(u64, BTreeSet<String>)> {
    let mut runs: Vec<(i64, i32)> = transitions
        .iter()
        .map(|t| {
            let attempt = i32::try_from(t.run.attempt).unwrap_or(i32::MAX);
            (t.run.id.get(), attempt)
        })
        .collect();
    runs.sort_unstable();
    let (ids, attempts): (Vec<i64>, Vec<i32>) = runs.into_iter().unzip();
    let context = recording("outcome", transitions);
    let (count, _settled): (i64, Option<i32>) = sqlx::query_as(sql.succeeded.clone())
        .bind(ids)
        .bind(attempts)
        .bind(&sql.channel)
        .fetch_one(conn)
        .await
        .map_err(Error::db(context))?;
    Ok((u64::try_from(count).unwrap_or(0), BTreeSet::new()))
}

/// Renews the leases of attempts still running; returns the ids of those
/// that are not (cancelled, rescued, deleted).
pub(crate) async fn heartbeat(
    conn: &mut PgConnection,
    sql: &CompleteSql,
    params: JobHeartbeatParams<'_>,
) -> Result<Vec<JobId>> {
    let JobHeartbeatParams { running, lease } = params;
    if running.is_empty() {
        return Ok(Vec::new());
    }
    let mut running = running.to_vec();
    running.sort_unstable();
    let ids: Vec<i64> = running.iter().map(|run| run.id.get()).collect();
    let attempts: Vec<i32> = running
        .iter()
        .map(|run| i32::try_from(run.attempt).unwrap_or(i32::MAX))
        .collect();
    let gone: Vec<i64> = sqlx::query_scalar(sql.heartbeat.clone())
        .bind(ids)
        .bind(attempts)
        .bind(lease.as_secs_f64())
        .fetch_all(conn)
        .await
        .map_err(Error::db(format!(
            "renew the leases of {} running jobs",
            running.len()
        )))?;
    Ok(gone.into_iter().map(JobId::new).collect())
}

/// Records the progress runs reported, for attempts still running.
pub(crate) async fn progress_many(
    conn: &mut PgConnection,
    sql: &CompleteSql,
    params: JobProgressManyParams<'_>,
) -> Result<()> {
    if params.reports.is_empty() {
        return Ok(());
    }
    let mut reports = params.reports.to_vec();
    reports.sort_unstable_by_key(|report| report.run);
    let ids: Vec<i64> = reports.iter().map(|report| report.run.id.get()).collect();
    let attempts: Vec<i32> = reports
        .iter()
        .map(|report| i32::try_from(report.run.attempt).unwrap_or(i32::MAX))
        .collect();
    let progress: Vec<f32> = reports.iter().map(|report| report.progress).collect();
    sqlx::query(sql.progress.clone())
        .bind(ids)
        .bind(attempts)
        .bind(progress)
        .execute(conn)
        .await
        .map_err(Error::db(format!(
            "record the progress of {} running jobs",
            reports.len()
        )))?;
    Ok(())
}
