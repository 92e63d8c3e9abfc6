//! The PostgreSQL workloads: each on a fresh schema of the server at
//! `DATABASE_URL`, dropped afterwards, through a `PgBackend` with its
//! default settings.

mod bulk;
mod cost;
mod dashboard;
mod drain;
mod flow;
mod latency;

pub(crate) use self::bulk::bulk_enqueue;
pub(crate) use self::dashboard::dashboard;
pub(crate) use self::drain::{drain, drain_1ms};
pub(crate) use self::flow::{drain_keyed, drain_rate};
pub(crate) use self::latency::{latency, scheduled};

use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::postgres::PgPoolOptions;
use jobs_postgres::sqlx::{self, AssertSqlSafe, PgPool};

type Result<T> = std::result::Result<T, String>;

/// How many jobs one `enqueue_many` call stores while loading a queue.
pub(crate) const LOAD_BATCH: usize = 5_000;

/// The server the workloads use.
pub(crate) struct Pg {
    url: String,
    /// For the program's own queries (counters, schema set-up).
    admin: PgPool,
    /// Whether `pg_stat_statements` is loaded, so statements can be counted.
    statements: bool,
}

impl Pg {
    pub(crate) async fn connect() -> Result<Self> {
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            "DATABASE_URL is not set: run `scripts/bench`, which starts a throwaway \
             PostgreSQL, or point DATABASE_URL at a server the benchmark may use"
                .to_owned()
        })?;
        // one session, so forcing its counts out covers all of them
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| format!("connect to DATABASE_URL: {e}"))?;
        let statements = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&admin)
            .await
            .is_ok()
            && sqlx::query("SELECT pg_stat_statements_reset()")
                .execute(&admin)
                .await
                .is_ok();
        // The memory workloads run first, on a server just started, whose
        // new database's catalogs (written by `createdb` and the extension)
        // autovacuum has yet to look at. With that work ahead, the 0.4-second
        // memory drain ran at half speed in 5 of 12 runs; with autovacuum
        // off, or after this vacuum, in none of 6 and 8.
        if let Err(error) = sqlx::query("VACUUM ANALYZE").execute(&admin).await {
            eprintln!("   (the catalogs were not vacuumed first: {error})");
        }
        Ok(Self {
            url,
            admin,
            statements,
        })
    }

    /// A backend with default settings on a new, migrated schema `name`.
    async fn fresh(&self, name: &str) -> Result<PgBackend> {
        self.drop_schema(name).await?;
        let backend = self.backend(name).await?;
        backend
            .migrate()
            .await
            .map_err(|e| format!("migrate schema `{name}`: {e}"))?;
        Ok(backend)
    }

    /// A backend with default settings (its own pool) on schema `name`.
    async fn backend(&self, name: &str) -> Result<PgBackend> {
        PgBackend::builder()
            .schema(name)
            .connect(&self.url)
            .await
            .map_err(|e| format!("connect: {e}"))
    }

    async fn drop_schema(&self, name: &str) -> Result<()> {
        self.execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .await
    }

    /// Runs one statement on the admin connection. `sql` names only the
    /// benchmark's own schemas, never outside input.
    async fn execute(&self, sql: &str) -> Result<()> {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&self.admin)
            .await
            .map(|_| ())
            .map_err(|e| format!("{sql}: {e}"))
    }

    /// Writes out what the last workload left dirty (`CHECKPOINT`), so the
    /// next one, on either backend, does not share the machine with the
    /// server's background writes. Skipped where the role may not.
    pub(crate) async fn settle(&self) {
        if let Err(error) = sqlx::query("CHECKPOINT").execute(&self.admin).await {
            eprintln!("   (no checkpoint between workloads: {error})");
        }
    }

    /// The one value `sql` selects, read on the admin connection. `sql`
    /// names only the benchmark's own schemas.
    async fn scalar(&self, sql: &str) -> Result<i64> {
        sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&self.admin)
            .await
            .map_err(|e| format!("{sql}: {e}"))
    }

    /// The server's version and the settings the figures depend on.
    pub(crate) async fn describe(&self) -> Result<String> {
        let row: (String, String, String, String) = sqlx::query_as(
            "SELECT current_setting('server_version'), current_setting('synchronous_commit'),
                    current_setting('fsync'), current_setting('shared_buffers')",
        )
        .fetch_one(&self.admin)
        .await
        .map_err(|e| e.to_string())?;
        Ok(format!(
            "PostgreSQL {}, synchronous_commit {}, fsync {}, shared_buffers {}",
            row.0, row.1, row.2, row.3
        ))
    }
}
