//! What the database did for a stretch of work: commits and rows written
//! (`pg_stat_database`), WAL bytes (`pg_current_wal_lsn()`), statements
//! (`pg_stat_statements`, when loaded).
//!
//! `pg_stat_database` covers every session of this database, and PostgreSQL
//! 15 publishes a busy session's counts up to ten seconds late, but at once
//! when the session ends: so the work measured runs on a pool of its own,
//! closed before the counters are read, and the program's own session
//! forces its counts out first.

use std::time::Duration;

use jobs_postgres::sqlx;
use serde_json::{Value, json};

use super::{Pg, Result};

/// The longest wait for other sessions of the database to end.
const SETTLE: Duration = Duration::from_secs(10);

/// The counters at one moment.
#[derive(Clone, Debug)]
pub(crate) struct Counters {
    commits: i64,
    rows_written: i64,
    wal_lsn: String,
}

/// The difference between two readings, per job.
#[derive(Clone, Debug)]
pub(crate) struct Cost {
    pub(crate) commits_per_job: f64,
    pub(crate) wal_bytes_per_job: f64,
    pub(crate) rows_written_per_job: f64,
    /// `None` without `pg_stat_statements`.
    pub(crate) statements_per_job: Option<f64>,
    /// The busiest statements: text, calls, total milliseconds, rows.
    pub(crate) top_statements: Vec<Value>,
}

impl Counters {
    /// Waits for the counts to settle, reads them, and starts counting
    /// statements afresh.
    pub(crate) async fn read(pg: &Pg) -> Result<Self> {
        settle(pg).await?;
        // published when this session next goes idle, before the reading
        pg.execute("/* jobs-bench */ SELECT pg_stat_force_next_flush()")
            .await?;
        let (commits, rows_written, wal_lsn): (i64, i64, String) = sqlx::query_as(
            "/* jobs-bench */ SELECT xact_commit, tup_inserted + tup_updated + tup_deleted,
                    pg_current_wal_lsn()::text
             FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&pg.admin)
        .await
        .map_err(|e| format!("read pg_stat_database: {e}"))?;
        if pg.statements {
            pg.execute("/* jobs-bench */ SELECT pg_stat_statements_reset()")
                .await?;
        }
        Ok(Self {
            commits,
            rows_written,
            wal_lsn,
        })
    }

    /// What happened since `self`, divided among `jobs`.
    pub(crate) async fn cost_since(&self, pg: &Pg, jobs: usize) -> Result<Cost> {
        let statements = if pg.statements {
            Some(statements(pg).await?)
        } else {
            None
        };
        let now = Counters::read(pg).await?;
        let (wal_bytes,): (f64,) = sqlx::query_as(
            "/* jobs-bench */ SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8",
        )
        .bind(&now.wal_lsn)
        .bind(&self.wal_lsn)
        .fetch_one(&pg.admin)
        .await
        .map_err(|e| format!("compute WAL bytes: {e}"))?;
        let per_job = |total: f64| total / jobs as f64;
        Ok(Cost {
            // includes the program's own few queries: noise beside the jobs'
            commits_per_job: per_job((now.commits - self.commits) as f64),
            wal_bytes_per_job: per_job(wal_bytes),
            rows_written_per_job: per_job((now.rows_written - self.rows_written) as f64),
            statements_per_job: statements.as_ref().map(|(calls, _)| per_job(*calls as f64)),
            top_statements: statements.map(|(_, top)| top).unwrap_or_default(),
        })
    }
}

/// Waits until no other session of this database is open (their counts
/// are published when they end), or for [`SETTLE`] at most.
async fn settle(pg: &Pg) -> Result<()> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let (others,): (i64,) = sqlx::query_as(
            "/* jobs-bench */ SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND backend_type = 'client backend'",
        )
        .fetch_one(&pg.admin)
        .await
        .map_err(|e| format!("read pg_stat_activity: {e}"))?;
        if others == 0 || tokio::time::Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every statement since the last reset but the program's own: how many,
/// and the busiest.
async fn statements(pg: &Pg) -> Result<(i64, Vec<Value>)> {
    let rows: Vec<(String, i64, f64, i64)> = sqlx::query_as(
        "/* jobs-bench */ SELECT query, calls, total_exec_time, rows FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT LIKE '%jobs-bench%'
         ORDER BY calls DESC",
    )
    .fetch_all(&pg.admin)
    .await
    .map_err(|e| format!("read pg_stat_statements: {e}"))?;
    let total = rows.iter().map(|row| row.1).sum();
    let top = rows
        .iter()
        .take(8)
        .map(|(query, calls, ms, rows)| {
            let text: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let text: String = text.chars().take(90).collect();
            json!({ "query": text, "calls": calls, "total_ms": ms.round(), "rows": rows })
        })
        .collect();
    Ok((total, top))
}
