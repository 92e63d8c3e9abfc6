//! Running the built `jobs` binary against a real PostgreSQL, each test on
//! a schema of its own.

#![allow(dead_code, unreachable_pub)]

use std::process::Command;
use std::time::Duration;

use jobs_core::{Client, JobId, JobInfo, JobState};
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::{self, AssertSqlSafe};

/// The server the tests use. `scripts/test` starts one and sets this; the
/// tests fail without it, they never skip.
pub fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: run the tests with `scripts/test`, which starts a \
             throwaway PostgreSQL, or point DATABASE_URL at a server the tests may use"
        ),
    }
}

/// A fresh schema name.
pub fn schema_name() -> String {
    format!("cli_{:016x}", fastrand::u64(..))
}

/// A schema of its own, with a backend and client on it.
pub struct Store {
    pub schema: String,
    pub backend: PgBackend,
    pub client: Client,
}

impl Store {
    /// On a new schema, migrated unless `migrated` is false.
    pub async fn new(migrated: bool) -> Self {
        let schema = schema_name();
        let backend = PgBackend::builder()
            .schema(&schema)
            .max_connections(4)
            .connect(database_url())
            .await
            .expect("connect to DATABASE_URL");
        if migrated {
            backend.migrate().await.expect("migrate a fresh schema");
        }
        Self {
            client: Client::new(backend.clone()),
            schema,
            backend,
        }
    }

    /// Runs `jobs --schema <this> <args>` with the test server's URL.
    pub async fn jobs(&self, args: &[&str]) -> Run {
        let mut full = vec!["--database-url".to_owned(), database_url()];
        full.extend(["--schema".to_owned(), self.schema.clone()]);
        full.extend(args.iter().map(|arg| (*arg).to_owned()));
        run(full, &[]).await
    }

    /// Waits until job `id` is in `state`.
    pub async fn wait_for(&self, id: JobId, state: JobState) -> JobInfo {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let job = self.client.job(id).await.unwrap().expect("job exists");
            if job.state == state {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} never became {state}: {job:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn drop_schema(&self) {
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        )))
        .execute(self.backend.pool())
        .await
        .expect("drop the test schema");
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and nothing on standard error; returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:#?}");
        assert_eq!(self.stderr, "", "{self:#?}");
        &self.stdout
    }

    /// Asserts success and parses standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|error| panic!("not JSON ({error}): {self:#?}"))
    }

    /// Asserts a failure with `code`: nothing printed on standard output
    /// and one `error: ...` line on standard error; returns that line.
    pub fn error(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {self:#?}");
        assert!(lines[0].starts_with("error: "), "{self:#?}");
        lines[0]
    }
}

/// Runs the built binary with `args` and extra environment `env`
/// (`DATABASE_URL` is removed unless given there).
pub async fn run(args: Vec<String>, env: &[(&str, &str)]) -> Run {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jobs"));
        command
            .args(&args)
            .env_remove("DATABASE_URL")
            .env("RUST_BACKTRACE", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("run the jobs binary");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("the runner thread")
}

/// A mail job on queue `cli_mail`; no test runs it.
#[jobs_core::job(name = "cli_mail", queue = "cli_mail")]
pub async fn cli_mail(to: String) {
    let _ = to;
}

/// Fails at once, for good: a `Dead` job.
#[jobs_core::job(name = "cli_fails", retries = 0)]
pub async fn cli_fails(n: u32) -> Result<(), String> {
    Err(format!("boom {n}\nsecond line"))
}

/// A recurring job, stored by a worker's start.
#[jobs_core::recurring(cron = "0 0 3 * * *", id = "cli-nightly")]
pub async fn cli_nightly() {}

impl Store {
    /// `n` dead jobs of `cli_fails`, run by a worker that is gone when
    /// this returns.
    pub async fn dead_jobs(&self, n: u32) -> Vec<JobId> {
        let mut ids = Vec::new();
        for i in 0..n {
            ids.push(cli_fails::enqueue(&self.client, i).await.unwrap());
        }
        let worker = jobs_core::Worker::builder(self.backend.clone())
            .queue("default", 2)
            .only(&[cli_fails::NAME])
            .build()
            .unwrap()
            .start();
        for id in &ids {
            self.wait_for(*id, JobState::Dead).await;
        }
        worker.shutdown().await;
        ids
    }
}
