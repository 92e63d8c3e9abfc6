//! Queue names: `[a-z0-9_-]{1,64}`.

/// The queue jobs go to unless told otherwise.
pub const DEFAULT_QUEUE: &str = "default";

/// Whether `name` is a valid queue name: 1 to 64 of `a-z`, `0-9`, `_`, `-`.
///
/// ```
/// assert!(jobs_core::is_valid_queue_name("critical"));
/// assert!(jobs_core::is_valid_queue_name("mail_v2-eu"));
/// assert!(!jobs_core::is_valid_queue_name("Critical"));
/// assert!(!jobs_core::is_valid_queue_name(""));
/// ```
pub fn is_valid_queue_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
