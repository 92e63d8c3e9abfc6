//! Retry delays as a pure function of the retry number.
//!
//! The delay before retry `n` (n = 1 after the first failed attempt) is
//! recomputed from the stored attempt number, so it never depends on state
//! kept in a worker's memory, and any worker can schedule any job's retry.

use std::time::Duration;

/// How the delay grows from one retry to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backoff {
    /// `base · 2^(n-1)`.
    Exponential,
    /// `base · n`.
    Linear,
    /// `base` every time.
    Fixed,
    /// Retry at once.
    None,
}

/// A job's retry policy: how many attempts, and the delay before each retry.
///
/// ```
/// use std::time::Duration;
/// use jobs_core::retry::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::new(3).backoff(Backoff::Exponential, Duration::from_secs(1), Duration::from_secs(60));
/// assert_eq!(policy.max_attempts(), 4);
/// assert_eq!(policy.nominal_delay(1), Duration::from_secs(1));
/// assert_eq!(policy.nominal_delay(3), Duration::from_secs(4));
/// assert_eq!(policy.nominal_delay(100), Duration::from_secs(60)); // capped
///
/// // with jitter: within ±10 % of the nominal delay, never above the cap
/// let d = policy.delay(3);
/// assert!(d >= Duration::from_millis(3_600) && d <= Duration::from_millis(4_400));
///
/// // Hangfire-style explicit delays: the last one repeats
/// let explicit = RetryPolicy::new(5).delays(&[60, 120, 300]);
/// assert_eq!(explicit.nominal_delay(2), Duration::from_secs(120));
/// assert_eq!(explicit.nominal_delay(5), Duration::from_secs(300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    retries: u32,
    schedule: DelaySchedule,
    jitter: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DelaySchedule {
    Backoff {
        kind: Backoff,
        base: Duration,
        max: Duration,
    },
    Explicit(&'static [u64]),
}

impl RetryPolicy {
    /// The default retries: 3 (so at most 4 attempts).
    pub const DEFAULT_RETRIES: u32 = 3;
    /// The default backoff base: 1 s.
    pub const DEFAULT_BASE: Duration = Duration::from_secs(1);
    /// The default backoff cap: 1 h.
    pub const DEFAULT_MAX: Duration = Duration::from_secs(3600);
    /// The default jitter: ±10 %.
    pub const DEFAULT_JITTER: f64 = 0.1;

    /// `retries` retries after the first attempt, exponential backoff from
    /// 1 s capped at 1 h, ±10 % jitter.
    pub const fn new(retries: u32) -> Self {
        Self {
            retries,
            schedule: DelaySchedule::Backoff {
                kind: Backoff::Exponential,
                base: Self::DEFAULT_BASE,
                max: Self::DEFAULT_MAX,
            },
            jitter: Self::DEFAULT_JITTER,
        }
    }

    /// Sets the backoff curve, its base and its cap.
    pub const fn backoff(mut self, kind: Backoff, base: Duration, max: Duration) -> Self {
        self.schedule = DelaySchedule::Backoff { kind, base, max };
        self
    }

    /// Explicit per-retry delays in seconds; the last repeats. No jitter.
    /// An empty list means no delay.
    pub const fn delays(mut self, seconds: &'static [u64]) -> Self {
        self.schedule = DelaySchedule::Explicit(seconds);
        self
    }

    /// Sets the jitter as a fraction (0.1 = ±10 %), clamped to `0.0..=1.0`.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Retries after the first attempt.
    pub const fn retries(&self) -> u32 {
        self.retries
    }

    /// The most attempts: `retries + 1`.
    pub const fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// The delay before retry `n` without jitter (n = 1 is the first retry;
    /// 0 is treated as 1).
    pub fn nominal_delay(&self, retry: u32) -> Duration {
        let n = retry.max(1);
        match self.schedule {
            DelaySchedule::Explicit(seconds) => match seconds {
                [] => Duration::ZERO,
                _ => Duration::from_secs(seconds[(n as usize - 1).min(seconds.len() - 1)]),
            },
            DelaySchedule::Backoff { kind, base, max } => {
                let base = base.as_nanos();
                let nanos = match kind {
                    Backoff::None => 0,
                    Backoff::Fixed => base,
                    Backoff::Linear => base.saturating_mul(u128::from(n)),
                    Backoff::Exponential => match 1u128.checked_shl(n - 1) {
                        Some(factor) => base.saturating_mul(factor),
                        None => u128::MAX,
                    },
                };
                nanos_to_duration(nanos).min(max)
            }
        }
    }

    /// The delay before retry `n` with jitter drawn from `sample`, a number
    /// in `-1.0..=1.0` (`-1` = the low edge of the band, `1` = the high edge).
    /// The result never exceeds the cap. A pure function, for tests.
    pub fn delay_with(&self, retry: u32, sample: f64) -> Duration {
        let nominal = self.nominal_delay(retry);
        let (jitter, cap) = match self.schedule {
            DelaySchedule::Explicit(_) => return nominal,
            DelaySchedule::Backoff { max, .. } => (self.jitter, max),
        };
        let sample = if sample.is_nan() {
            0.0
        } else {
            sample.clamp(-1.0, 1.0)
        };
        let factor = 1.0 + jitter * sample;
        Duration::try_from_secs_f64(nominal.as_secs_f64() * factor)
            .unwrap_or(cap)
            .min(cap)
    }

    /// The delay before retry `n`, with random jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, fastrand::f64() * 2.0 - 1.0)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(Self::DEFAULT_RETRIES)
    }
}

fn nanos_to_duration(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = nanos / NANOS_PER_SEC;
    match u64::try_from(secs) {
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn band(nominal: Duration, jitter: f64, cap: Duration) -> (Duration, Duration) {
        let low = nominal.mul_f64(1.0 - jitter);
        let high = nominal.mul_f64(1.0 + jitter).min(cap);
        (low.min(cap), high)
    }

    #[test]
    fn curves_follow_their_formulas() {
        let base = Duration::from_millis(500);
        let max = Duration::from_secs(3600);
        let exp = RetryPolicy::new(10).backoff(Backoff::Exponential, base, max);
        let lin = RetryPolicy::new(10).backoff(Backoff::Linear, base, max);
        let fixed = RetryPolicy::new(10).backoff(Backoff::Fixed, base, max);
        let none = RetryPolicy::new(10).backoff(Backoff::None, base, max);
        assert_eq!(exp.nominal_delay(1), base);
        assert_eq!(exp.nominal_delay(4), base * 8);
        assert_eq!(lin.nominal_delay(4), base * 4);
        assert_eq!(fixed.nominal_delay(4), base);
        assert_eq!(none.nominal_delay(4), Duration::ZERO);
        assert_eq!(none.delay(4), Duration::ZERO);
    }

    #[test]
    fn cap_applies_after_jitter() {
        let policy = RetryPolicy::new(100).backoff(Backoff::Exponential, SECOND, 10 * SECOND);
        assert_eq!(policy.delay_with(50, 1.0), 10 * SECOND);
        assert_eq!(policy.delay_with(50, -1.0), 9 * SECOND);
    }

    #[test]
    fn explicit_delays_repeat_the_last_and_have_no_jitter() {
        let policy = RetryPolicy::new(10).delays(&[60, 120, 300]);
        let got: Vec<_> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(got, [60, 120, 300, 300, 300]);
        assert_eq!(RetryPolicy::new(1).delays(&[]).delay(1), Duration::ZERO);
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let policy =
            RetryPolicy::new(u32::MAX).backoff(Backoff::Linear, Duration::MAX, Duration::MAX);
        assert_eq!(policy.max_attempts(), u32::MAX);
        assert_eq!(policy.delay_with(u32::MAX, 1.0), Duration::MAX);
        assert_eq!(policy.delay_with(u32::MAX, f64::NAN), Duration::MAX);
        let exp = RetryPolicy::new(3).backoff(Backoff::Exponential, Duration::MAX, Duration::MAX);
        assert_eq!(exp.delay_with(u32::MAX, -1.0), Duration::MAX.mul_f64(0.9));
    }

    fn any_backoff() -> impl Strategy<Value = Backoff> {
        prop_oneof![
            Just(Backoff::Exponential),
            Just(Backoff::Linear),
            Just(Backoff::Fixed),
            Just(Backoff::None),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn every_delay_stays_in_its_band_and_under_the_cap(
            kind in any_backoff(),
            base_ms in 1u64..=86_400_000,
            max_ms in 1u64..=7 * 86_400_000,
            retry in 1u32..=1_000_000,
            sample in -1.0f64..=1.0,
        ) {
            let base = Duration::from_millis(base_ms);
            let cap = Duration::from_millis(max_ms);
            let policy = RetryPolicy::new(retry).backoff(kind, base, cap);
            let nominal = policy.nominal_delay(retry);
            prop_assert!(nominal <= cap);
            let (low, high) = band(nominal, RetryPolicy::DEFAULT_JITTER, cap);
            let delay = policy.delay_with(retry, sample);
            prop_assert!(delay <= cap, "retry {retry}: {delay:?} over cap {cap:?}");
            // float rounding may move the edges by a nanosecond
            prop_assert!(delay + Duration::from_nanos(1) >= low, "retry {retry}: {delay:?} under {low:?}");
            prop_assert!(delay <= high + Duration::from_nanos(1), "retry {retry}: {delay:?} over {high:?}");
        }

        #[test]
        fn delays_never_shrink_before_the_cap(
            kind in prop_oneof![Just(Backoff::Exponential), Just(Backoff::Linear)],
            base_ms in 1u64..=60_000,
            retry in 1u32..1_000_000,
        ) {
            let policy = RetryPolicy::new(retry).backoff(kind, Duration::from_millis(base_ms), RetryPolicy::DEFAULT_MAX);
            prop_assert!(policy.nominal_delay(retry) <= policy.nominal_delay(retry + 1));
        }

        #[test]
        fn explicit_delays_are_exact(
            delays in proptest::collection::vec(0u64..=86_400, 1..8),
            retry in 1u32..=1_000_000,
        ) {
            let delays: &'static [u64] = Box::leak(delays.into_boxed_slice());
            let policy = RetryPolicy::new(retry).delays(delays);
            let expected = delays[(retry as usize - 1).min(delays.len() - 1)];
            prop_assert_eq!(policy.delay(retry), Duration::from_secs(expected));
        }
    }

    #[test]
    fn every_attempt_up_to_a_million_is_in_band() {
        let policy = RetryPolicy::new(1_000_000).backoff(
            Backoff::Exponential,
            Duration::from_millis(250),
            RetryPolicy::DEFAULT_MAX,
        );
        for retry in 1..=1_000_000u32 {
            for sample in [-1.0, 0.0, 1.0] {
                let delay = policy.delay_with(retry, sample);
                let (low, high) = band(policy.nominal_delay(retry), 0.1, RetryPolicy::DEFAULT_MAX);
                assert!(
                    delay <= RetryPolicy::DEFAULT_MAX
                        && delay + Duration::from_nanos(1) >= low
                        && delay <= high + Duration::from_nanos(1)
                );
            }
        }
    }
}
