//! Wall-clock time, injectable so cron schedules can be tested.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A source of wall-clock time for the cron scheduler.
///
/// Production uses [`SystemClock`]; tests give the worker a [`ManualClock`]
/// (`Worker::builder(..).clock(clock.clone())`) and move time by hand.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// A receiver that changes whenever this clock jumps (never, for the
    /// system clock), so a sleeping scheduler re-reads the time at once.
    fn jumps(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        None
    }
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; clones share one time.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jobs_core::{Clock, ManualClock};
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2027, 3, 28, 0, 0, 0).unwrap());
/// clock.advance(chrono::Duration::hours(1));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap());
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<watch::Sender<DateTime<Utc>>>>,
}

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(watch::Sender::new(now))),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send_replace(now);
    }

    /// Moves the time forward (or back, with a negative step), saturating
    /// at the ends of what chrono represents.
    pub fn advance(&self, step: chrono::Duration) {
        let sender = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = *sender.borrow();
        let next = now
            .checked_add_signed(step)
            .unwrap_or(if step < chrono::Duration::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
        sender.send_replace(next);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .borrow()
    }

    fn jumps(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        Some(
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .subscribe(),
        )
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}
