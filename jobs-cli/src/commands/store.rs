//! The store as a whole: migrate, status, workers, health.

use std::collections::BTreeMap;
use std::process::ExitCode;

use jobs_core::{Client, Health, HealthStatus, JobState, QueueCounts, WorkerInfo};
use jobs_postgres::PgBackend;
use serde::Serialize;

use crate::error::CliError;
use crate::format;
use crate::output::Output;
use crate::table::{Table, one_line};

/// The exit code of `jobs health` for an unhealthy store.
const UNHEALTHY: u8 = 3;

pub(crate) async fn migrate(backend: &PgBackend) -> Result<Output, CliError> {
    backend.migrate().await?;
    #[derive(Serialize)]
    struct Migrated<'a> {
        schema: &'a str,
        version: i32,
    }
    let version = jobs_postgres::SCHEMA_VERSION;
    Output::new(
        format!(
            "schema `{}` is migrated to version {version}\n",
            backend.schema()
        ),
        &Migrated {
            schema: backend.schema(),
            version,
        },
    )
}

pub(crate) async fn status(client: &Client, schema: &str) -> Result<Output, CliError> {
    let counts = client.counts().await?;
    let workers = client.workers().await?;
    let queues = client.queues().await?;
    let paused: Vec<&str> = queues
        .iter()
        .filter(|queue| queue.paused)
        .map(|queue| queue.name.as_str())
        .collect();
    let now = chrono::Utc::now();

    let mut header = vec!["QUEUE"];
    header.extend(JobState::ALL.iter().map(|state| state_header(*state)));
    header.push("LAG");
    let mut table = Table::new(&header);
    for (queue, by_state) in counts.iter() {
        let mut row = vec![one_line(queue)];
        row.extend(
            JobState::ALL
                .iter()
                .map(|state| by_state.get(*state).to_string()),
        );
        row.push(format::age(by_state.oldest_available_at, now));
        table.row(row);
    }
    let mut human = format!("schema `{schema}`\n\n");
    if table.is_empty() {
        human.push_str("no jobs\n");
    } else {
        human.push_str(&table.render());
    }
    human.push('\n');
    if !paused.is_empty() {
        let names: Vec<String> = paused.iter().map(|name| one_line(name)).collect();
        human.push_str(&format!("paused queues: {}\n\n", names.join(", ")));
    }
    human.push_str(&workers_text(&workers));

    #[derive(Serialize)]
    struct Status<'a> {
        schema: &'a str,
        queues: BTreeMap<&'a str, &'a QueueCounts>,
        paused: &'a [&'a str],
        workers: &'a [WorkerInfo],
    }
    let json = Status {
        schema,
        queues: counts.iter().collect(),
        paused: &paused,
        workers: &workers,
    };
    Output::new(human, &json)
}

fn state_header(state: JobState) -> &'static str {
    match state {
        JobState::Awaiting => "AWAITING",
        JobState::Scheduled => "SCHEDULED",
        JobState::Available => "AVAILABLE",
        JobState::Running => "RUNNING",
        JobState::Retryable => "RETRYABLE",
        JobState::Completed => "COMPLETED",
        JobState::Dead => "DEAD",
        JobState::Cancelled => "CANCELLED",
    }
}

pub(crate) async fn workers(client: &Client) -> Result<Output, CliError> {
    let workers = client.workers().await?;
    Output::new(workers_text(&workers), &workers)
}

fn workers_text(workers: &[WorkerInfo]) -> String {
    if workers.is_empty() {
        return "no live workers\n".to_owned();
    }
    let mut table = Table::new(&[
        "WORKER",
        "HOST",
        "PID",
        "QUEUES",
        "RUNNING",
        "STARTED",
        "LAST SEEN",
    ]);
    for worker in workers {
        let queues: Vec<String> = worker
            .queues
            .iter()
            .map(|queue| format!("{}:{}", queue.name, queue.concurrency))
            .collect();
        table.row(vec![
            one_line(&worker.id),
            one_line(&worker.hostname),
            worker.pid.to_string(),
            one_line(&queues.join(",")),
            worker.running.to_string(),
            format::time(worker.started_at),
            format::time(worker.last_seen_at),
        ]);
    }
    table.render()
}

pub(crate) async fn health(connected: Result<PgBackend, CliError>) -> Result<Output, CliError> {
    let cannot_use =
        |error: CliError| Health::unhealthy(format!("the backend cannot be used: {error}"));
    let health = match connected {
        // said as every other command says it: with the command that fixes it
        Ok(backend) => match backend.check_schema().await {
            Err(error @ jobs_postgres::Error::NotMigrated { .. }) => cannot_use(error.into()),
            _ => Client::new(backend).health().await?,
        },
        Err(error) => cannot_use(error),
    };
    let mut human = format!("{}\n", health.status);
    for reason in &health.reasons {
        human.push_str(&format!("- {}\n", one_line(reason)));
    }
    let exit = if health.status == HealthStatus::Unhealthy {
        ExitCode::from(UNHEALTHY)
    } else {
        ExitCode::SUCCESS
    };
    Ok(Output::new(human, &health)?.exit(exit))
}
