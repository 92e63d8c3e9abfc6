//! Wake-ups: one `LISTEN` connection per backend turns the notifications
//! sent by inserts (from any process) into wake-ups of the local fetch
//! loops. Notifications are a latency optimisation only: workers poll as
//! well, so a lost notification delays a job by at most the poll interval.

use std::time::Duration;

use jobs_core::wake::WakeHub;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

/// The shortest and longest pause before listening again after an error.
const MIN_RECONNECT: Duration = Duration::from_millis(100);
const MAX_RECONNECT: Duration = Duration::from_secs(5);

/// The notification channel of a schema.
pub(crate) fn channel(schema: &str) -> String {
    format!("{schema}_jobs_ready")
}

/// The running listener task; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct Listener {
    stop: CancellationToken,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts listening on `channel` if a tokio runtime is running; without
/// one, there is nothing to wake and workers poll.
pub(crate) fn spawn(pool: PgPool, channel: String, hub: WakeHub) -> Option<Listener> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let stop = CancellationToken::new();
    runtime.spawn(run(pool, channel, hub, stop.clone()));
    Some(Listener { stop })
}

async fn run(pool: PgPool, channel: String, hub: WakeHub, stop: CancellationToken) {
    let mut pause = MIN_RECONNECT;
    loop {
        let started = tokio::time::Instant::now();
        match listen(&pool, &channel, &hub, &stop).await {
            Ok(()) => return,
            // the pool was closed (its owner is shutting down): nothing is
            // left to listen with, and holding a connection would keep
            // `pool.close()` waiting for it
            Err(_) if pool.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, channel, ?pause, "listening for job notifications failed; workers poll until it is back");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = if started.elapsed() > MAX_RECONNECT * 2 {
            MIN_RECONNECT // it had been working: a new outage
        } else {
            (pause * 2).min(MAX_RECONNECT)
        };
    }
}

/// Listens until `stop` fires (`Ok`), or the connection fails or the pool
/// is closed (`Err`).
async fn listen(
    pool: &PgPool,
    channel: &str,
    hub: &WakeHub,
    stop: &CancellationToken,
) -> Result<(), sqlx::Error> {
    // not ignoring the pool's close event: `pool.close()` waits for every
    // connection to come back, this one included, so a close ends the wait
    // for notifications with `PoolClosed` and the connection goes back
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    // jobs may have been stored while nobody listened
    hub.notify_all();
    loop {
        let received = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            received = listener.try_recv() => received?,
        };
        match received {
            Some(notification) => {
                for queue in notification.payload().split(',') {
                    hub.notify(queue);
                }
            }
            // the connection dropped and the listener reconnects on the
            // next call; what was sent meanwhile is lost, so look anyway
            None => hub.notify_all(),
        }
    }
}
