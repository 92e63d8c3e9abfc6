//! Each command: connect, ask the client, shape the answer.

mod dashboard;
mod jobs;
mod queues;
mod schedules;
mod store;

use std::time::Duration;

use jobs_core::Client;
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::postgres::PgConnectOptions;
use jobs_postgres::sqlx::{Connection, PgConnection};

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Output;

/// How long a command waits for a connection before it gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the command the line asked for.
pub(crate) async fn run(cli: Cli) -> Result<Output, CliError> {
    let url = database_url(cli.database_url)?;
    let schema = cli.schema;
    let connected = connect(&url, &schema).await;
    if let Command::Health = cli.command {
        // a store that cannot be reached is a verdict, not an error
        return store::health(connected).await;
    }
    let backend = connected?;
    if let Command::Migrate = cli.command {
        return store::migrate(&backend).await;
    }
    // every other command needs the tables: say so clearly if they are not there
    backend.check_schema().await?;
    let client = Client::new(backend.clone());
    match cli.command {
        Command::Status => store::status(&client, &schema).await,
        Command::Workers => store::workers(&client).await,
        Command::List(args) => jobs::list(&client, args).await,
        Command::Show { id } => jobs::show(&client, id).await,
        Command::Retry(args) => jobs::retry(&client, args).await,
        Command::Cancel { ids } => jobs::cancel(&client, &ids).await,
        Command::Delete { ids } => jobs::delete(&client, &ids).await,
        Command::Schedules => schedules::list(&client).await,
        Command::Trigger { schedule } => schedules::trigger(&client, &schedule).await,
        Command::Pause { queue } => queues::pause(&client, &queue).await,
        Command::Resume { queue } => queues::resume(&client, &queue).await,
        Command::Dashboard { bind } => dashboard::serve(client, bind).await,
        Command::Migrate | Command::Health => unreachable_command(),
    }
}

/// A backend on `schema`. One plain connection first: when the server
/// cannot be reached, its error says why (refused, unknown host, bad
/// password), where a pool would only say it timed out.
async fn connect(url: &str, schema: &str) -> Result<PgBackend, CliError> {
    let builder = PgBackend::builder()
        .schema(schema)
        .max_connections(2)
        .acquire_timeout(CONNECT_TIMEOUT);
    jobs_postgres::validate_schema_name(schema)?;
    let options: PgConnectOptions = url
        .parse()
        .map_err(|error| CliError::new(format!("the database URL is not valid: {error}")))?;
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(probe)) => {
            let _ = probe.close().await;
        }
        Ok(Err(error)) => {
            return Err(CliError::new(format!(
                "could not connect to the database: {error}"
            )));
        }
        Err(_elapsed) => {
            return Err(CliError::new(format!(
                "could not connect to the database: no answer within {CONNECT_TIMEOUT:?}"
            )));
        }
    }
    Ok(builder.connect(url).await?)
}

/// `--database-url`, else `DATABASE_URL`.
fn database_url(given: Option<String>) -> Result<String, CliError> {
    given
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .filter(|url| !url.trim().is_empty())
        .ok_or_else(|| CliError::new("no database given: pass --database-url or set DATABASE_URL"))
}

/// The commands handled before the match: never reached, and no panic
/// if it were.
fn unreachable_command() -> Result<Output, CliError> {
    Err(CliError::new("internal error: command dispatched twice"))
}
