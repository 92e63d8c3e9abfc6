//! Shared set-up of the PostgreSQL tests: each test gets its own schema
//! with a random name, so tests run in parallel without seeing each other.

#![allow(dead_code, unreachable_pub)]

use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::{self, AssertSqlSafe};

/// The server the tests use. `scripts/test` starts one and sets this.
pub fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: run the tests with `scripts/test`, which starts a \
             throwaway PostgreSQL, or point DATABASE_URL at a server the tests may use"
        ),
    }
}

/// A fresh schema name.
pub fn schema_name() -> String {
    format!("test_{:016x}", fastrand::u64(..))
}

/// A backend on a new, migrated schema.
pub async fn fresh_backend() -> PgBackend {
    let backend = backend_on(&schema_name()).await;
    backend.migrate().await.expect("migrate a fresh schema");
    backend
}

/// A backend on `schema`, not migrated.
pub async fn backend_on(schema: &str) -> PgBackend {
    PgBackend::builder()
        .schema(schema)
        .max_connections(6)
        .connect(&database_url())
        .await
        .expect("connect to DATABASE_URL")
}

/// Drops the backend's schema and everything in it.
pub async fn drop_schema(backend: &PgBackend) {
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
        backend.schema()
    )))
    .execute(backend.pool())
    .await
    .expect("drop the test schema");
}
