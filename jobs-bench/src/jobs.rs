//! The jobs the workloads run, and the shared states they record into.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobs_core::{State, job};

/// The queue every workload runs on.
pub(crate) const QUEUE: &str = "bench";

/// Counts finished runs, so a drain knows when every job has run.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    runs: AtomicU64,
    /// How long the timed job bodies took, in total.
    body_nanos: AtomicU64,
}

impl Tally {
    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// The mean time a timed job body took.
    pub(crate) fn mean_body(&self) -> Duration {
        let runs = self.runs().max(1);
        Duration::from_nanos(self.body_nanos.load(Ordering::Relaxed) / runs)
    }

    fn add(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
    }

    fn add_timed(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.body_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.add();
    }
}

/// Per-job instants on one monotonic clock, as nanoseconds since `base`
/// (0: not yet).
#[derive(Debug)]
pub(crate) struct Stamps {
    base: Instant,
    /// Taken just before the enqueue call (or the job's due time).
    pub(crate) sent: Vec<AtomicU64>,
    /// Taken when the enqueue call returned.
    pub(crate) stored: Vec<AtomicU64>,
    /// Taken when the job's body started.
    pub(crate) started: Vec<AtomicU64>,
}

impl Stamps {
    pub(crate) fn new(jobs: usize) -> Self {
        let zeros = || (0..jobs).map(|_| AtomicU64::new(0)).collect();
        Self {
            base: Instant::now(),
            sent: zeros(),
            stored: zeros(),
            started: zeros(),
        }
    }

    /// Nanoseconds since `base`, never 0.
    pub(crate) fn now(&self) -> u64 {
        self.at(Instant::now())
    }

    pub(crate) fn at(&self, instant: Instant) -> u64 {
        u64::try_from(instant.saturating_duration_since(self.base).as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    pub(crate) fn set(slots: &[AtomicU64], seq: u64, value: u64) {
        if let Some(slot) = usize::try_from(seq).ok().and_then(|i| slots.get(i)) {
            slot.store(value, Ordering::Relaxed);
        }
    }

    /// How many jobs have started.
    pub(crate) fn started_count(&self) -> usize {
        self.started
            .iter()
            .filter(|slot| slot.load(Ordering::Relaxed) != 0)
            .count()
    }

    /// `to - from` in microseconds for every job that has both stamps.
    pub(crate) fn spans_us(from: &[AtomicU64], to: &[AtomicU64]) -> Vec<f64> {
        from.iter()
            .zip(to)
            .filter_map(|(from, to)| {
                let (from, to) = (from.load(Ordering::Relaxed), to.load(Ordering::Relaxed));
                (from != 0 && to != 0).then(|| (to as f64 - from as f64) / 1_000.0)
            })
            .collect()
    }
}

/// Does nothing.
#[job(name = "bench_noop", queue = "bench", retries = 0)]
pub(crate) async fn noop(tally: State<Arc<Tally>>) {
    tally.add();
}

/// Waits one millisecond, as a job awaiting a quick network call does.
///
/// The wait is what a socket's readiness would be: a `timerfd` that fires
/// after exactly 1 ms, awaited through tokio's reactor. (tokio's own timer
/// counts whole milliseconds, so `tokio::time::sleep` of 1 ms waits 1 to
/// 2 ms; a blocking thread's sleep adds two thread hand-offs.)
#[job(name = "bench_wait_1ms", queue = "bench", retries = 0)]
pub(crate) async fn wait_1ms(tally: State<Arc<Tally>>) -> std::io::Result<()> {
    let started = Instant::now();
    precise_sleep(Duration::from_millis(1)).await?;
    tally.add_timed(started.elapsed());
    Ok(())
}

/// Records when it started.
#[job(name = "bench_probe", queue = "bench", retries = 0)]
pub(crate) async fn probe(stamps: State<Arc<Stamps>>, seq: u64) {
    Stamps::set(&stamps.started, seq, stamps.now());
}

/// Does nothing; at most 8 run at once per `key` across all workers.
#[job(
    name = "bench_keyed",
    queue = "bench",
    retries = 0,
    concurrency = 8,
    concurrency_key = "key"
)]
pub(crate) async fn keyed(tally: State<Arc<Tally>>, key: u32) {
    let _ = key;
    tally.add();
}

/// Records its start; at most 5,000 start in any second across all workers.
#[job(
    name = "bench_rate_limited",
    queue = "bench",
    retries = 0,
    rate_limit = "5000/1s"
)]
pub(crate) async fn rate_limited(starts: State<Arc<Starts>>) {
    starts.record();
}

/// When each job of a run started, in the order they started.
#[derive(Debug)]
pub(crate) struct Starts {
    base: Instant,
    /// Nanoseconds since `base`, one slot per start.
    at: Vec<AtomicU64>,
    count: AtomicU64,
}

impl Starts {
    pub(crate) fn new(jobs: usize) -> Self {
        Self {
            base: Instant::now(),
            at: (0..jobs).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
        }
    }

    fn record(&self) {
        let now = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let seq = self.count.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = usize::try_from(seq).ok().and_then(|i| self.at.get(i)) {
            slot.store(now, Ordering::Relaxed);
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Every start so far, sorted.
    pub(crate) fn sorted(&self) -> Vec<Duration> {
        let count = usize::try_from(self.count()).unwrap_or(usize::MAX);
        let mut at: Vec<Duration> = self
            .at
            .iter()
            .take(count)
            .map(|slot| Duration::from_nanos(slot.load(Ordering::Relaxed)))
            .collect();
        at.sort_unstable();
        at
    }
}

/// Carries a 32-byte argument.
#[job(name = "bench_payload", queue = "bench", retries = 0)]
pub(crate) async fn payload(tally: State<Arc<Tally>>, data: String) {
    let _ = data;
    tally.add();
}

/// Sleeps for `duration` on a `timerfd` (nanosecond precision), awaited
/// like a socket.
async fn precise_sleep(duration: Duration) -> std::io::Result<()> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    // SAFETY: timerfd_create takes no pointers; a non-negative result is a
    // new file descriptor that nothing else owns.
    let fd = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: duration.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(duration.subsec_nanos() as i32),
        },
    };
    // SAFETY: `fd` is a timerfd; `spec` outlives the call; the old value
    // is not asked for.
    let set = unsafe {
        libc::timerfd_settime(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            0,
            &spec,
            std::ptr::null_mut(),
        )
    };
    if set < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the `OwnedFd` keeps its descriptor open and unchanged until
    // the `AsyncFd` that owns it is dropped.
    let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(std::io::Error::from)?;
    let _ready = fd.readable().await?;
    Ok(())
}
