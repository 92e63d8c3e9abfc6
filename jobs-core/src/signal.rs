//! A ready-made shutdown signal for a worker's process (feature `signal`).

/// Completes when the process is asked to stop: on Unix at SIGINT (Ctrl-C)
/// or SIGTERM, elsewhere at Ctrl-C.
///
/// SIGTERM is what `docker stop`, Kubernetes and systemd send first; a
/// process that does not handle it is killed with no graceful shutdown, and
/// the jobs it was running stay `Running` until their lease expires (on
/// the memory backend they are lost). Give this to
/// [`Worker::run_until`](crate::Worker::run_until), or to a web server's
/// graceful shutdown:
///
/// ```no_run
/// # async fn run(worker: jobs_core::Worker) -> jobs_core::Result<()> {
/// worker.run_until(jobs_core::shutdown_signal()).await?;
/// # Ok(()) }
/// ```
///
/// It starts listening when first polled, and needs a tokio runtime with
/// its I/O driver (`#[tokio::main]` has one). If the process cannot listen
/// for signals at all, it logs why and never completes, rather than stop
/// the worker at once.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    () = ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
                return;
            }
            Err(error) => cannot_listen("SIGTERM", &error),
        }
    }
    ctrl_c().await;
}

/// Ctrl-C, or never if the process cannot listen for it: completing would
/// stop the worker at once.
async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        cannot_listen("Ctrl-C", &error);
        std::future::pending::<()>().await;
    }
}

fn cannot_listen(signal: &str, error: &std::io::Error) {
    tracing::error!(%error, "cannot listen for {signal}: it will not stop this process gracefully");
}
