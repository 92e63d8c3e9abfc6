//! What the database did for a stretch of work: commits and rows written
//! (`pg_stat_database`), WAL bytes (`pg_current_wal_lsn()`), statements
//! (`pg_stat_statements`, when loaded).
//!
//! `pg_stat_database` is server-wide for this database and PostgreSQL 15
//! publishes a session's counts up to a second after its transaction ends,
//! so [`Counters::read`] first waits for the server to settle.

use std::time::Duration;

use jobs_postgres::sqlx;
use serde_json::{Value, json};

use super::{Pg, Result};

/// How long sessions take to publish their counts.
const SETTLE: Duration = Duration::from_millis(1_500);

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
        tokio::time::sleep(SETTLE).await;
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
