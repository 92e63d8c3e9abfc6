//! `jobs`: administer a jobs-postgres store from a shell.
//!
//! ```sh
//! export DATABASE_URL=postgres://localhost/app
//! jobs migrate
//! jobs status
//! jobs list --state dead --queue mailer --kind send_welcome_email --limit 20
//! jobs show 42
//! jobs retry 42 43      jobs retry --state dead --kind send_welcome_email
//! jobs cancel 42        jobs delete 42
//! jobs schedules        jobs trigger nightly-report
//! jobs workers          jobs health
//! ```
//!
//! Every command takes `--database-url` (default: `DATABASE_URL`),
//! `--schema` (default `jobs`) and `--json`, which prints JSON for scripts
//! instead of tables. An error prints one line, `error: ...`, to standard
//! error and exits with 1 (2 for a command line clap cannot parse);
//! `jobs health` exits with 3 when the store is unhealthy.

mod cli;
mod commands;
mod error;
mod format;
mod output;
mod table;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::Output;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match commands::run(cli).await {
        Ok(output) => print(&output, json),
        Err(error) => {
            eprintln_quietly(&format!("error: {error}"));
            ExitCode::FAILURE
        }
    }
}

/// Prints the output as asked; a closed pipe (`jobs list | head`) is not
/// an error.
fn print(output: &Output, json: bool) -> ExitCode {
    let text = if json {
        let mut text = serde_json::to_string_pretty(&output.json)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
        text.push('\n');
        text
    } else {
        output.human.clone()
    };
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    for failure in &output.failures {
        eprintln_quietly(&format!("error: {failure}"));
    }
    match written {
        Ok(()) => output.exit,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => output.exit,
        Err(error) => {
            eprintln_quietly(&format!("error: could not write the output: {error}"));
            ExitCode::FAILURE
        }
    }
}

fn eprintln_quietly(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
