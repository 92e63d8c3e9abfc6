//! The shared backend conformance suite on `PgBackend`, each case on a
//! fresh schema of a real PostgreSQL.

mod common;

jobs_core::conformance_suite!(async { common::fresh_backend().await });
