//! Embedded, versioned migrations and the schema version check.
//!
//! Each migration is a SQL file compiled into the binary, applied in order
//! in one transaction under an advisory lock (so two processes migrating at
//! once take turns), and recorded in `{schema}.schema_migrations`. A schema
//! migrated by a newer binary is refused, with a message saying so.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, SqlSafeStr, SqlStr};

use crate::{Error, Result};

/// One embedded migration.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "schedule_definitions",
        sql: include_str!("migrations/0002_schedule_definitions.sql"),
    },
    Migration {
        version: 3,
        name: "job_versions",
        sql: include_str!("migrations/0003_job_versions.sql"),
    },
    Migration {
        version: 4,
        name: "workflows",
        sql: include_str!("migrations/0004_workflows.sql"),
    },
    Migration {
        version: 5,
        name: "flow_control",
        sql: include_str!("migrations/0005_flow_control.sql"),
    },
    Migration {
        version: 6,
        name: "runtime_schedules",
        sql: include_str!("migrations/0006_runtime_schedules.sql"),
    },
    Migration {
        version: 7,
        name: "workers",
        sql: include_str!("migrations/0007_workers.sql"),
    },
    Migration {
        version: 8,
        name: "dashboard_indexes",
        sql: include_str!("migrations/0008_dashboard_indexes.sql"),
    },
];

/// The newest schema version this binary knows and needs.
pub const SCHEMA_VERSION: i32 = 8;

/// SQLSTATEs of a missing table and a missing schema.
const UNDEFINED_TABLE: &str = "42P01";
const INVALID_SCHEMA_NAME: &str = "3F000";

/// First key of the advisory lock migrations hold ("jobs" in ASCII); the
/// second is the schema name's hash, so schemas migrate independently.
const MIGRATION_LOCK: i32 = 0x6a6f_6273;

/// Replaces `{schema}` in a SQL template with the quoted schema name,
/// ready to send. Statements are rendered once per backend and shared:
/// cloning the result is a reference count, not a copy.
///
/// The one place where SQL is built from a string at run time. Its only
/// dynamic part is the schema name, which
/// [`validate_schema_name`](crate::validate_schema_name) restricts to
/// `a-z`, `0-9` and `_` before any backend exists, so quoting it cannot be
/// escaped.
pub(crate) fn render(template: &str, schema: &str) -> SqlStr {
    let sql: Arc<str> = template
        .replace("{schema}", &format!("\"{schema}\""))
        .into();
    AssertSqlSafe(sql).into_sql_str()
}

/// Creates or upgrades the schema to [`SCHEMA_VERSION`]. Idempotent.
pub(crate) async fn migrate(pool: &PgPool, schema: &str) -> Result<i32> {
    let context = || format!("migrate schema `{schema}`");
    let mut conn = pool.acquire().await.map_err(Error::db(context()))?;
    let mut tx = conn.begin().await.map_err(Error::db(context()))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(MIGRATION_LOCK)
        .bind(schema)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context()))?;
    let bootstrap = render(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
             version    integer     PRIMARY KEY,
             name       text        NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
        schema,
    );
    sqlx::raw_sql(bootstrap)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(context()))?;
    let found = current_version(&mut tx, schema).await?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            schema: schema.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        let what = format!(
            "apply migration {:04}_{} to schema `{schema}`",
            migration.version, migration.name
        );
        sqlx::raw_sql(render(migration.sql, schema))
            .execute(&mut *tx)
            .await
            .map_err(Error::db(what.clone()))?;
        sqlx::query(render(
            "INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)",
            schema,
        ))
        .bind(migration.version)
        .bind(migration.name)
        .execute(&mut *tx)
        .await
        .map_err(Error::db(what))?;
        tracing::info!(
            schema,
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    tx.commit().await.map_err(Error::db(context()))?;
    Ok(SCHEMA_VERSION)
}

/// Remembers when the schema was last found at the version this binary
/// knows, and trusts that for an interval: then the next operation reads
/// the version again, so a schema a newer binary migrated under a running
/// one is refused within the interval, at the cost of one short statement
/// per interval.
#[derive(Debug)]
pub(crate) struct SchemaCheck {
    interval: Duration,
    origin: Instant,
    /// When a check last passed, in milliseconds since `origin`, plus one
    /// (0: never): one atomic load on the hot path.
    passed_at: AtomicU64,
    /// One check at a time; callers that arrive meanwhile take its answer.
    /// Taken only by callers that already hold a connection, so the holder
    /// never waits for the pool.
    running: tokio::sync::Mutex<()>,
}

impl SchemaCheck {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            origin: Instant::now(),
            passed_at: AtomicU64::new(0),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether a check passed within the interval.
    pub(crate) fn is_fresh(&self) -> bool {
        match self.passed_at.load(Ordering::Acquire) {
            0 => false,
            stamp => {
                let passed = Duration::from_millis(stamp - 1);
                self.origin.elapsed().saturating_sub(passed) < self.interval
            }
        }
    }

    /// Records that the schema was found (or made) at this binary's version.
    pub(crate) fn passed(&self) {
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.passed_at.store(now + 1, Ordering::Release);
    }

    /// Reads the version on `conn` unless a check passed within the
    /// interval.
    pub(crate) async fn ensure(&self, conn: &mut PgConnection, schema: &str) -> Result<()> {
        if self.is_fresh() {
            return Ok(());
        }
        let _one_at_a_time = self.running.lock().await;
        if self.is_fresh() {
            return Ok(());
        }
        check(conn, schema).await?;
        self.passed();
        Ok(())
    }
}

/// Checks on `conn` (a pooled connection, or the caller's transaction)
/// that the schema is at exactly the version this binary knows. One
/// statement, which changes nothing.
pub(crate) async fn check(conn: &mut PgConnection, schema: &str) -> Result<()> {
    let found = current_version(conn, schema).await?;
    if found > SCHEMA_VERSION {
        Err(Error::SchemaTooNew {
            schema: schema.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        })
    } else if found < SCHEMA_VERSION {
        Err(Error::NotMigrated {
            schema: schema.to_owned(),
            found,
            needed: SCHEMA_VERSION,
        })
    } else {
        Ok(())
    }
}

/// The schema's version; 0 if it has never been migrated.
///
/// One statement: a schema that has no version table fails it, which is
/// read as version 0. Inside a caller's transaction that failure aborts the
/// transaction, as the insert that would follow (into the same missing
/// schema) would have.
async fn current_version(conn: &mut PgConnection, schema: &str) -> Result<i32> {
    let version: std::result::Result<Option<i32>, sqlx::Error> = sqlx::query_scalar(render(
        "SELECT max(version) FROM {schema}.schema_migrations",
        schema,
    ))
    .fetch_one(&mut *conn)
    .await;
    match version {
        Ok(version) => Ok(version.unwrap_or(0)),
        Err(sqlx::Error::Database(db))
            if matches!(
                db.code().as_deref(),
                Some(UNDEFINED_TABLE | INVALID_SCHEMA_NAME)
            ) =>
        {
            Ok(0)
        }
        Err(error) => Err(Error::db(format!("read the version of schema `{schema}`"))(
            error,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(usize::try_from(migration.version).ok(), Some(index + 1));
        }
        assert_eq!(MIGRATIONS.first().map(|m| m.version), Some(1));
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn render_quotes_the_schema() {
        assert_eq!(
            render("SELECT 1 FROM {schema}.jobs", "tenant"),
            "SELECT 1 FROM \"tenant\".jobs"
        );
    }
}
