//! A worker process stopped by SIGTERM, as `docker stop` or Kubernetes stop
//! one, shuts down gracefully through `jobs_core::shutdown_signal()`: it
//! gives its running job back and exits 0 (#13).

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

/// Ends the child if the test fails before it exits.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not exit within {limit:?} of SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_shuts_the_worker_down_gracefully() {
    let child = Command::new(env!("CARGO_BIN_EXE_sigterm_worker"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the worker binary starts");
    let mut child = Reaped(child);
    let stdout = child.0.stdout.take().expect("piped stdout");
    let (lines_tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let first = lines
        .recv_timeout(PATIENCE)
        .expect("the worker says its job runs");
    assert_eq!(first, "job running");

    let sent = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -TERM failed: {sent}");

    let status = wait_with_timeout(&mut child.0, PATIENCE);
    // the reader ends at the child's end of output
    let mut rest = Vec::new();
    while let Ok(line) = lines.recv_timeout(PATIENCE) {
        rest.push(line);
    }
    assert!(
        status.success(),
        "the worker should exit 0 after a graceful shutdown, not {status}; it printed {rest:?}"
    );
    assert_eq!(
        rest,
        [
            "job state: available after 0 attempt(s)",
            "shutdown complete"
        ]
    );
}
