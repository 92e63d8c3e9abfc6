//! The command line: what `jobs --help` shows.

use clap::{Args, Parser, Subcommand};
use jobs_core::JobState;

/// Administer the jobs of a PostgreSQL store (jobs-postgres): counts,
/// jobs, schedules, live workers and health.
#[derive(Debug, Parser)]
#[command(name = "jobs", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The database, as `postgres://user:password@host/db` [default: the
    /// environment variable DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,

    /// The schema the jobs tables live in.
    #[arg(long, global = true, default_value = jobs_postgres::DEFAULT_SCHEMA)]
    pub(crate) schema: String,

    /// Print JSON instead of tables, for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create or upgrade the schema to this version (idempotent).
    Migrate,
    /// Job counts per queue and state, and the live workers.
    Status,
    /// Jobs matching a filter, by id.
    List(ListArgs),
    /// One job: its arguments, state, attempts and every attempt's error.
    Show {
        /// The job's id.
        id: i64,
    },
    /// Run dead or cancelled jobs again (or waiting ones now): by id, or
    /// every job matching `--state` (and `--queue`, `--kind`).
    Retry(RetryArgs),
    /// Cancel jobs that have not finished.
    Cancel {
        /// The jobs' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete jobs that are not running.
    Delete {
        /// The jobs' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// The stored recurring schedules.
    Schedules,
    /// Enqueue a stored schedule's job now, outside its schedule.
    Trigger {
        /// The schedule's id (as in `#[recurring(id = ..)]`).
        schedule: String,
    },
    /// Stop every worker from starting jobs of a queue (it still accepts
    /// jobs; running ones finish).
    Pause {
        /// The queue's name.
        queue: String,
    },
    /// Let workers start a paused queue's jobs again.
    Resume {
        /// The queue's name.
        queue: String,
    },
    /// The live workers: those that heartbeated within their lease.
    Workers,
    /// Serve the web dashboard (jobs-dashboard) until Ctrl-C.
    Dashboard {
        /// The address to listen on. The dashboard serves requests from
        /// loopback addresses only.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        bind: std::net::SocketAddr,
    },
    /// Healthy, degraded or unhealthy, and why. Exits with 3 when
    /// unhealthy, so a probe can use it.
    Health,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only jobs in this state (awaiting, scheduled, available, running,
    /// retryable, completed, dead, cancelled).
    #[arg(long, value_parser = parse_state)]
    pub(crate) state: Option<JobState>,
    /// Only jobs on this queue.
    #[arg(long)]
    pub(crate) queue: Option<String>,
    /// Only jobs of this kind.
    #[arg(long)]
    pub(crate) kind: Option<String>,
    /// At most this many jobs.
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: usize,
    /// Skip this many matching jobs first.
    #[arg(long, default_value_t = 0)]
    pub(crate) offset: usize,
}

#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// The jobs' ids.
    #[arg(value_name = "ID", required_unless_present = "state", conflicts_with_all = ["state", "queue", "kind"])]
    pub(crate) ids: Vec<i64>,
    /// Every job in this state (dead, cancelled, retryable or scheduled).
    #[arg(long, value_parser = parse_state)]
    pub(crate) state: Option<JobState>,
    /// With `--state`: only jobs on this queue.
    #[arg(long, requires = "state")]
    pub(crate) queue: Option<String>,
    /// With `--state`: only jobs of this kind.
    #[arg(long, requires = "state")]
    pub(crate) kind: Option<String>,
}

fn parse_state(text: &str) -> Result<JobState, String> {
    text.to_ascii_lowercase().parse::<JobState>().map_err(|_| {
        let names: Vec<&str> = JobState::ALL.iter().map(|state| state.as_str()).collect();
        format!("unknown state `{text}`: use one of {}", names.join(", "))
    })
}
