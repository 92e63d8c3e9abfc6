//! Pacing of loops that hit backend errors.

use std::time::Duration;

use crate::worker::config::{MAX_ERROR_BACKOFF, MIN_ERROR_BACKOFF};

/// Doubles a pause after each consecutive backend error, up to a cap, and
/// starts over after a success: a lost database is retried without
/// hammering it, and work resumes promptly when it returns.
#[derive(Debug, Default)]
pub(crate) struct ErrorBackoff {
    failures: u32,
}

impl ErrorBackoff {
    /// Records a failure and returns how long to pause.
    pub(crate) fn failed(&mut self) -> Duration {
        let pause = MIN_ERROR_BACKOFF
            .saturating_mul(1 << self.failures.min(10))
            .min(MAX_ERROR_BACKOFF);
        self.failures = self.failures.saturating_add(1);
        pause
    }

    /// Records a success.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets() {
        let mut backoff = ErrorBackoff::default();
        assert_eq!(backoff.failed(), MIN_ERROR_BACKOFF);
        assert_eq!(backoff.failed(), MIN_ERROR_BACKOFF * 2);
        for _ in 0..20 {
            assert!(backoff.failed() <= MAX_ERROR_BACKOFF);
        }
        assert_eq!(backoff.failed(), MAX_ERROR_BACKOFF);
        backoff.succeeded();
        assert_eq!(backoff.failed(), MIN_ERROR_BACKOFF);
    }
}
