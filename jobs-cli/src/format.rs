//! How times and durations read in tables.

use chrono::{DateTime, Utc};

/// `2026-11-26 16:24:02`, in UTC.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time, or `-`.
pub(crate) fn maybe_time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), time)
}

/// How long ago `since` was, in whole seconds: `75s`; `-` for none.
pub(crate) fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    since.map_or_else(
        || "-".to_owned(),
        |since| format!("{}s", (now - since).num_seconds().max(0)),
    )
}
