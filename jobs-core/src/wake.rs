//! Wake-ups for idle workers: a backend signals "a job may be ready on this
//! queue" and the queue's fetch loop stops waiting, instead of polling.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::watch;

/// Per-queue wake-up signals, shared by a backend and the workers on it.
///
/// A backend calls [`notify`](WakeHub::notify) after storing or releasing
/// jobs; a fetch loop holds a [`Wakeup`] from [`subscribe`](WakeHub::subscribe)
/// and waits on it when the queue is empty. A signal sent between a fetch
/// and the wait is not lost: the wait returns at once.
#[derive(Clone, Debug, Default)]
pub struct WakeHub {
    queues: Arc<RwLock<HashMap<String, watch::Sender<u64>>>>,
}

impl WakeHub {
    /// A hub with no queues yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes every loop waiting on `queue`.
    pub fn notify(&self, queue: &str) {
        let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = queues.get(queue) {
            sender.send_modify(|epoch| *epoch = epoch.wrapping_add(1));
        }
    }

    /// Wakes every waiting loop on every queue.
    pub fn notify_all(&self) {
        let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
        for sender in queues.values() {
            sender.send_modify(|epoch| *epoch = epoch.wrapping_add(1));
        }
    }

    /// A wake-up handle for `queue`.
    pub fn subscribe(&self, queue: &str) -> Wakeup {
        if let Some(sender) = self
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(queue)
        {
            return Wakeup {
                receiver: sender.subscribe(),
            };
        }
        let mut queues = self.queues.write().unwrap_or_else(PoisonError::into_inner);
        let sender = queues
            .entry(queue.to_owned())
            .or_insert_with(|| watch::Sender::new(0));
        Wakeup {
            receiver: sender.subscribe(),
        }
    }
}

/// One fetch loop's view of a queue's wake-up signal.
#[derive(Debug)]
pub struct Wakeup {
    receiver: watch::Receiver<u64>,
}

impl Wakeup {
    /// A handle that never fires, for a backend without push notifications:
    /// its workers poll.
    pub fn never() -> Self {
        let (_sender, receiver) = watch::channel(0);
        Self { receiver }
    }

    /// Marks every signal so far as seen; call it just before fetching.
    pub fn mark_seen(&mut self) {
        self.receiver.borrow_and_update();
    }

    /// Waits until a signal arrives that was not yet seen, or `timeout`
    /// passes. Returns `true` if woken by a signal.
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        match tokio::time::timeout(timeout, self.receiver.changed()).await {
            Ok(Ok(())) => true,
            // the hub is gone: nothing will ever signal, so just pace the loop
            Ok(Err(_)) => {
                tokio::time::sleep(timeout).await;
                false
            }
            Err(_elapsed) => false,
        }
    }
}
