//! Queues: pause and resume.

use jobs_core::Client;
use serde::Serialize;

use crate::error::CliError;
use crate::output::Output;
use crate::table::one_line;

#[derive(Serialize)]
struct Paused<'a> {
    queue: &'a str,
    paused: bool,
    changed: bool,
}

pub(crate) async fn pause(client: &Client, queue: &str) -> Result<Output, CliError> {
    let changed = client.pause_queue(queue).await?;
    let human = match changed {
        true => format!("paused queue `{}`\n", one_line(queue)),
        false => format!("queue `{}` was already paused\n", one_line(queue)),
    };
    Output::new(
        human,
        &Paused {
            queue,
            paused: true,
            changed,
        },
    )
}

pub(crate) async fn resume(client: &Client, queue: &str) -> Result<Output, CliError> {
    let changed = client.resume_queue(queue).await?;
    let human = match changed {
        true => format!("resumed queue `{}`\n", one_line(queue)),
        false => format!("queue `{}` was not paused\n", one_line(queue)),
    };
    Output::new(
        human,
        &Paused {
            queue,
            paused: false,
            changed,
        },
    )
}
