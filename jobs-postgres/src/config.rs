//! Backend settings and their defaults.

use std::time::Duration;

use crate::{Error, Result};

/// The schema the tables live in unless configured otherwise.
pub const DEFAULT_SCHEMA: &str = "jobs";
/// The pool size [`PgBackend::connect`](crate::PgBackend::connect) uses.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long an idle pooled connection may sit before it is checked with a
/// ping when taken out of the pool: after a server restart, a client that
/// was idle meanwhile gets a fresh connection instead of an error, while
/// busy connections (used within this time) cost no extra round trip (one
/// that the restart ended is met by the statement, which is then run again
/// on a live connection: see `retry.rs`).
pub(crate) const DEFAULT_PING_AFTER_IDLE: Duration = Duration::from_secs(1);
/// How long to wait for a pooled connection before an operation fails.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a schema found at this binary's version is trusted before its
/// version is read again (one short statement): a running binary refuses
/// a schema that a newer one migrated under it within this time.
pub const DEFAULT_SCHEMA_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// Settings of a [`PgBackend`](crate::PgBackend). Every field has a named
/// default above; build one with [`PgBackend::builder`](crate::PgBackend::builder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PgConfig {
    pub(crate) schema: String,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) schema_check_interval: Duration,
}

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            schema_check_interval: DEFAULT_SCHEMA_CHECK_INTERVAL,
        }
    }
}

impl PgConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        validate_schema_name(&self.schema)?;
        if self.max_connections == 0 {
            return Err(Error::InvalidSetting(
                "the pool needs at least 1 connection".into(),
            ));
        }
        Ok(())
    }
}

/// Checks a schema name: 1 to 48 of `a-z`, `0-9`, `_`, not starting with a
/// digit. Lower case only, so the name means the same quoted or not; short
/// enough that derived names (the notification channel) stay under
/// PostgreSQL's 63-byte limit.
pub fn validate_schema_name(name: &str) -> Result<()> {
    let valid = (1..=48).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
        && !name.starts_with("pg_");
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidSchemaName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        for ok in ["jobs", "_x", "tenant_42", &"a".repeat(48)] {
            assert!(validate_schema_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Jobs",
            "1jobs",
            "jobs;drop",
            "a b",
            "pg_catalog",
            "j\"s",
            &"a".repeat(49),
        ] {
            assert!(
                matches!(validate_schema_name(bad), Err(Error::InvalidSchemaName(_))),
                "{bad}"
            );
        }
    }
}
