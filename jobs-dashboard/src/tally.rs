//! The overview's count of every kept job, recounted in the background when
//! counting is slow.
//!
//! Counting the finished jobs of a store means reading every row it keeps:
//! a few milliseconds for thousands, hundreds for millions. So the overview
//! shows the unfinished counts live (the backend reads them from indexes,
//! see [`Client::unfinished_counts`]) and takes the finished counts and the
//! per-minute chart from the latest [`Tally`]. A tally that took longer
//! than [`WAIT`] to count is reused for twenty times as long as it took
//! (the database spends at most a twentieth of its time counting while
//! somebody watches), and a stale one is shown while a new count runs, as
//! River UI does. A quick tally is never reused: on a small store every
//! view is counted anew, and its figures are exact and current.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jobs_core::{Client, Counts, FinishedMinute};
use tokio::sync::watch;

use crate::chart;

/// How long a page waits for a count it started before it shows the
/// previous one (or none); counts quicker than this are never reused.
pub(crate) const WAIT: Duration = Duration::from_millis(50);

/// How many times its own counting time a slow tally is reused for.
const REUSE_FACTOR: u32 = 20;

/// The longest a tally is reused for, however slow counting was.
const REUSE_AT_MOST: Duration = Duration::from_secs(600);

/// Every job counted once, with the chart's minutes.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Counts per queue and state, finished states included.
    pub(crate) counts: Counts,
    /// Jobs finished per minute in the hour before `at`.
    pub(crate) minutes: Vec<FinishedMinute>,
    /// When counting began.
    pub(crate) at: DateTime<Utc>,
    /// How long counting took.
    pub(crate) took: Duration,
    started: Instant,
}

impl Tally {
    /// How long this tally may be shown without counting again.
    pub(crate) fn reusable_for(&self) -> Duration {
        if self.took < WAIT {
            Duration::ZERO
        } else {
            self.took.saturating_mul(REUSE_FACTOR).min(REUSE_AT_MOST)
        }
    }
}

/// What the latest count left.
#[derive(Debug, Default, Clone)]
struct Latest {
    tally: Option<Arc<Tally>>,
    /// Why the latest count failed, if it did.
    error: Option<String>,
}

/// What a page gets: the tally to show (if any count has finished) and
/// the error of the latest count, if it failed.
#[derive(Debug)]
pub(crate) struct Shown {
    pub(crate) tally: Option<Arc<Tally>>,
    pub(crate) error: Option<String>,
}

/// The latest tally of one dashboard, and the count in progress.
#[derive(Debug)]
pub(crate) struct Tallies {
    latest: watch::Sender<Latest>,
    counting: Arc<AtomicBool>,
    /// Tallies begun before this instant are stale: an action changed
    /// what they counted.
    changed_at: Mutex<Option<Instant>>,
}

impl Tallies {
    pub(crate) fn new() -> Self {
        Self {
            latest: watch::Sender::new(Latest::default()),
            counting: Arc::new(AtomicBool::new(false)),
            changed_at: Mutex::new(None),
        }
    }

    /// Marks every tally so far as stale (after an action changed jobs).
    pub(crate) fn invalidate(&self) {
        *self
            .changed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// The tally to show now: the latest one while it is fresh; otherwise
    /// a new count is started, and shown if it finishes within [`WAIT`]
    /// (not waited for when the latest took longer), else the latest one
    /// (or none yet) is shown while counting goes on in the background.
    pub(crate) async fn get(&self, client: &Client) -> Shown {
        let mut updates = self.latest.subscribe();
        let latest = updates.borrow_and_update().clone();
        if latest
            .tally
            .as_ref()
            .is_some_and(|tally| self.is_fresh(tally))
        {
            return Shown {
                tally: latest.tally,
                error: None,
            };
        }
        self.count(client);
        if latest
            .tally
            .as_ref()
            .is_some_and(|tally| tally.took >= WAIT)
        {
            // counting took long last time: no use waiting for it now
            return Shown {
                tally: latest.tally,
                error: latest.error,
            };
        }
        let latest = match tokio::time::timeout(WAIT, updates.changed()).await {
            Ok(Ok(())) => updates.borrow_and_update().clone(),
            Ok(Err(_)) | Err(_) => latest,
        };
        Shown {
            tally: latest.tally,
            error: latest.error,
        }
    }

    fn is_fresh(&self, tally: &Tally) -> bool {
        let changed_at = *self
            .changed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        changed_at.is_none_or(|changed| tally.started >= changed)
            && tally.started.elapsed() < tally.reusable_for()
    }

    /// Starts a count in the background unless one is running.
    fn count(&self, client: &Client) {
        if self.counting.swap(true, Ordering::AcqRel) {
            return;
        }
        let client = client.clone();
        let latest = self.latest.clone();
        let counting = Arc::clone(&self.counting);
        tokio::spawn(async move {
            let started = Instant::now();
            let at = Utc::now();
            let since = at - chrono::TimeDelta::minutes(chart::MINUTES);
            let counted = async {
                let counts = client.counts().await?;
                let minutes = client.finished_per_minute(since).await?;
                Ok::<_, jobs_core::Error>((counts, minutes))
            }
            .await;
            latest.send_modify(|latest| match counted {
                Ok((counts, minutes)) => {
                    latest.tally = Some(Arc::new(Tally {
                        counts,
                        minutes,
                        at,
                        took: started.elapsed(),
                        started,
                    }));
                    latest.error = None;
                }
                Err(error) => latest.error = Some(error.to_string()),
            });
            counting.store(false, Ordering::Release);
        });
    }
}
