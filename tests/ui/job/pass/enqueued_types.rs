#![deny(warnings)]

use jobs_core::{job, recurring, Client, JobContext, State};
use serde::{Deserialize, Serialize};

// the generated code must not pick these up
#[allow(dead_code)]
type Vec = ();
#[allow(dead_code)]
type Result = ();

#[derive(Clone)]
struct App;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Address {
    city: String,
}

#[job]
async fn no_arguments() {}

#[job]
async fn one_argument(_app: State<App>, user_id: i64) {
    let _ = user_id;
}

/// Injected parameters are not arguments; an argument may be named
/// `client` or use a raw identifier.
#[job]
async fn several(
    client: i64,
    _context: JobContext,
    r#type: String,
    address: Address,
    note: Option<String>,
) {
    let _ = (client, r#type, address, note);
}

#[recurring(cron = "0 0 2 * * *", id = "nightly")]
async fn nightly() {}

/// `enqueued` gives each job's arguments with their declared types.
#[allow(dead_code)]
async fn usage(client: &Client) -> std::result::Result<(), jobs_core::Error> {
    let none: std::vec::Vec<()> = no_arguments::enqueued(client).await?;
    let one: std::vec::Vec<i64> = one_argument::enqueued(client).await?;
    let many: std::vec::Vec<(i64, String, Address, Option<String>)> =
        several::enqueued(client).await?;
    let ticks: std::vec::Vec<()> = nightly::enqueued(client).await?;
    let _ = (none, one, many, ticks);
    Ok(())
}

/// The futures can be spawned.
#[allow(dead_code)]
fn spawnable(client: Client) {
    fn assert_send<T: Send + 'static>(_: T) {}
    assert_send(async move { several::enqueued(&client).await });
}

fn main() {}
