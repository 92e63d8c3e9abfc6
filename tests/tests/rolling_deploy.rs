//! A rolling deploy on PostgreSQL, with real processes: build 1 of a
//! program (`rolling_send_email` at version 1) works a store while build 2
//! (version 2, with an upgrade) starts next to it; each enqueues its own
//! jobs. Every job runs exactly once, on a worker that knows its version:
//! build 1 never claims a version 2 job (which sits ahead of its own in
//! claim order) and keeps working its own behind them; build 2 runs version
//! 1 jobs through its upgrade.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jobs_core::{Client, JobState};
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::{self, AssertSqlSafe};

const PER_BUILD: usize = 200;
const PATIENCE: Duration = Duration::from_secs(60);

fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: run the tests with `scripts/test`, which starts a \
             throwaway PostgreSQL, or point DATABASE_URL at a server the tests may use"
        ),
    }
}

/// A worker process, killed when dropped so a failing test leaves none.
struct Process(Child);

impl Process {
    fn start(exe: &str, schema: &str, log: &PathBuf) -> Self {
        let child = Command::new(exe)
            .env("DATABASE_URL", database_url())
            .env("JOBS_SCHEMA", schema)
            .env("JOBS_RUN_LOG", log)
            .env("JOBS_ENQUEUE", PER_BUILD.to_string())
            .stdin(Stdio::null())
            .spawn()
            .expect("start a worker process");
        Process(child)
    }

    /// SIGTERM, then waits for a graceful exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => {
                    assert!(status.success(), "the worker exits cleanly: {status}");
                    return;
                }
                _ => assert!(Instant::now() < deadline, "the worker stops on SIGTERM"),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One line of the run log: `pid worker_version event job_id detail`.
#[derive(Debug)]
struct Line {
    version: u32,
    event: String,
    job: i64,
    detail: String,
}

fn lines(log: &PathBuf) -> Vec<Line> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            Line {
                version: f[1].parse().expect("a version"),
                event: f[2].to_owned(),
                job: f[3].parse().expect("a job id"),
                detail: f[4].to_owned(),
            }
        })
        .collect()
}

async fn wait_until(what: &str, log: &PathBuf, done: impl Fn(&[Line]) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done(&lines(log)) {
        assert!(Instant::now() < deadline, "no {what} within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_runs_once_on_a_worker_that_knows_its_version() {
    let schema = format!("test_{:016x}", fastrand::u64(..));
    let backend = PgBackend::builder()
        .schema(&schema)
        .max_connections(4)
        .connect(&database_url())
        .await
        .expect("connect to DATABASE_URL");
    backend.migrate().await.expect("migrate a fresh schema");
    let client = Client::new(backend.clone());
    let dir = std::env::temp_dir().join(format!("jobs-rolling-{schema}"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let log = dir.join("runs.log");

    // build 1 is deployed and working
    let v1 = Process::start(env!("CARGO_BIN_EXE_rolling_v1"), &schema, &log);
    wait_until("run on build 1", &log, |lines| {
        lines.iter().any(|l| l.event == "ran")
    })
    .await;
    // build 2 starts next to it and stores its jobs ahead of build 1's
    let v2 = Process::start(env!("CARGO_BIN_EXE_rolling_v2"), &schema, &log);
    wait_until("run on build 2", &log, |lines| {
        lines.iter().any(|l| l.event == "ran" && l.version == 2)
    })
    .await;
    // the old build goes away; the new one finishes everything
    v1.stop();
    wait_until("every job run", &log, |lines| {
        lines.iter().filter(|l| l.event == "ran").count() >= 2 * PER_BUILD
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    v2.stop();

    let lines = lines(&log);
    let enqueued_by: BTreeMap<i64, u32> = lines
        .iter()
        .filter(|l| l.event == "enqueued")
        .map(|l| (l.job, l.version))
        .collect();
    assert_eq!(enqueued_by.len(), 2 * PER_BUILD, "both builds enqueued");
    let mut runs: BTreeMap<i64, Vec<&Line>> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.event == "ran") {
        runs.entry(line.job).or_default().push(line);
    }
    let mut upgraded = 0;
    for (&job, &version) in &enqueued_by {
        let ran = runs.get(&job).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            ran.len(),
            1,
            "job {job} (version {version}) ran once: {ran:?}"
        );
        let run = ran[0];
        assert!(
            run.version >= version,
            "job {job} of version {version} ran on build {}",
            run.version
        );
        match (version, run.version) {
            (1, 1) => assert!(!run.detail.contains("locale"), "{run:?}"),
            (1, 2) => {
                assert!(run.detail.ends_with(",locale=en"), "upgraded: {run:?}");
                upgraded += 1;
            }
            _ => assert!(run.detail.ends_with(",locale=fr"), "as enqueued: {run:?}"),
        }
        let info = client.job(jobs_core::JobId::new(job)).await.unwrap();
        assert_eq!(info.map(|i| i.state), Some(JobState::Completed));
    }
    let v1_runs_after_v2 = lines
        .iter()
        .skip_while(|l| !(l.event == "enqueued" && l.version == 2))
        .filter(|l| l.event == "ran" && l.version == 1)
        .count();
    assert!(
        v1_runs_after_v2 > 0,
        "build 1 kept working its own jobs behind build 2's newer ones"
    );
    eprintln!(
        "build 1 ran {} jobs, build 2 ran {} ({upgraded} of them upgraded from version 1)",
        runs.values().filter(|r| r[0].version == 1).count(),
        runs.values().filter(|r| r[0].version == 2).count(),
    );

    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(backend.pool())
    .await
    .expect("drop the test schema");
    let _ = std::fs::remove_dir_all(&dir);
}
