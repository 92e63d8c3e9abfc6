//! Wake-ups for idle workers: a backend signals "a job may be ready on this
//! queue" and the queue's fetch loop stops waiting, instead of polling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::Notify;

/// Per-queue wake-up signals, shared by a backend and the workers on it.
///
/// A backend calls [`notify`](WakeHub::notify) after storing or releasing
/// jobs; a fetch loop holds a [`Wakeup`] from [`subscribe`](WakeHub::subscribe)
/// and waits on it when the queue is empty. A signal sent between a fetch
/// and the wait is not lost: the wait returns at once.
#[derive(Clone, Debug, Default)]
pub struct WakeHub {
    /// By queue name, hashed with foldhash: looked up on every enqueue,
    /// where SipHash took 160 instructions.
    queues: Arc<RwLock<foldhash::HashMap<String, Arc<Signal>>>>,
}

/// One queue's signal: how many were sent, and the loops waiting for the
/// next. (Sent on every enqueue: one counter and one waiter list, where a
/// `watch` channel would take a write lock and eight waiter lists.)
#[derive(Debug, Default)]
struct Signal {
    sent: AtomicU64,
    waiting: Notify,
}

impl Signal {
    fn send(&self) {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.waiting.notify_waiters();
    }
}

impl WakeHub {
    /// A hub with no queues yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes every loop waiting on `queue`.
    pub fn notify(&self, queue: &str) {
        let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(signal) = queues.get(queue) {
            signal.send();
        }
    }

    /// Wakes every waiting loop on every queue.
    pub fn notify_all(&self) {
        let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
        for signal in queues.values() {
            signal.send();
        }
    }

    /// A wake-up handle for `queue`.
    pub fn subscribe(&self, queue: &str) -> Wakeup {
        if let Some(signal) = self
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(queue)
        {
            return Wakeup::on(Arc::clone(signal));
        }
        let mut queues = self.queues.write().unwrap_or_else(PoisonError::into_inner);
        let signal = queues.entry(queue.to_owned()).or_default();
        Wakeup::on(Arc::clone(signal))
    }
}

/// One fetch loop's view of a queue's wake-up signal.
#[derive(Debug)]
pub struct Wakeup {
    signal: Arc<Signal>,
    /// How many signals were sent when this handle last looked.
    seen: u64,
}

impl Wakeup {
    fn on(signal: Arc<Signal>) -> Self {
        let seen = signal.sent.load(Ordering::SeqCst);
        Self { signal, seen }
    }

    /// A handle that never fires, for a backend without push notifications:
    /// its workers poll.
    pub fn never() -> Self {
        Self::on(Arc::default())
    }

    /// Marks every signal so far as seen; call it just before fetching.
    pub fn mark_seen(&mut self) {
        self.seen = self.signal.sent.load(Ordering::SeqCst);
    }

    /// How many signals this handle has seen.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// Takes over what another handle on the same queue has seen: signals
    /// up to `seen` no longer wake this one.
    pub(crate) fn adopt_seen(&mut self, seen: u64) {
        self.seen = self.seen.max(seen);
    }

    /// Waits until a signal arrives that was not yet seen, or `timeout`
    /// passes. Returns `true` if woken by a signal.
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.signalled())
            .await
            .is_ok()
    }

    /// Waits until a signal arrives that was not yet seen, and marks it
    /// seen: [`wait`](Self::wait) without a timeout, for a loop that keeps
    /// its own timer.
    pub(crate) async fn signalled(&mut self) {
        {
            let notified = self.signal.waiting.notified();
            tokio::pin!(notified);
            // registered before looking, so a signal in between still wakes us
            notified.as_mut().enable();
            if self.signal.sent.load(Ordering::SeqCst) == self.seen {
                notified.await;
            }
        }
        self.mark_seen();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(20);
    const LONG: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn a_signal_before_the_wait_is_not_lost() {
        let hub = WakeHub::new();
        let mut wakeup = hub.subscribe("q");
        hub.notify("other");
        assert!(!wakeup.wait(SHORT).await, "another queue's signal");
        wakeup.mark_seen();
        hub.notify("q");
        assert!(wakeup.wait(LONG).await);
        // seen now: the next wait waits
        assert!(!wakeup.wait(SHORT).await);
        hub.notify_all();
        wakeup.mark_seen();
        assert!(!wakeup.wait(SHORT).await, "seen before the wait");
    }

    #[tokio::test]
    async fn a_signal_wakes_every_waiting_loop() {
        let hub = WakeHub::new();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let mut wakeup = hub.subscribe("q");
                tokio::spawn(async move { wakeup.wait(LONG).await })
            })
            .collect();
        tokio::time::sleep(SHORT).await;
        hub.notify("q");
        for waiter in waiters {
            assert!(waiter.await.expect("no panic"));
        }
        assert!(!Wakeup::never().wait(SHORT).await);
    }
}
