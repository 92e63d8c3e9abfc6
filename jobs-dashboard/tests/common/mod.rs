//! What the tests against a real PostgreSQL share.

/// The server the tests use; `scripts/test` starts one and sets it.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .expect("DATABASE_URL is not set: run the tests with `scripts/test`")
}

/// A schema name starting with `prefix` that no other test run uses.
pub fn unique_schema(prefix: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{prefix}_{:016x}",
        RandomState::new().hash_one(std::process::id())
    )
}
