//! What a failed attempt leaves in the job's history, run on the memory
//! backend: an error's whole cause chain, and where a panic happened.

use std::error::Error;
use std::fmt;
use std::io;

use jobs_core::testing::wait_for_state;
use jobs_core::{Client, JobError, JobState, Worker, job};
use jobs_memory::MemoryBackend;

/// An error that leaves its source out of its message, as the Rust API
/// guidelines advise (and thiserror's `#[source]` does).
#[derive(Debug)]
struct Smtp(io::Error);

impl fmt::Display for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("talking to smtp")
    }
}

impl Error for Smtp {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn send() -> Result<(), Smtp> {
    Err(Smtp(io::Error::new(
        io::ErrorKind::ConnectionRefused,
        "connection refused",
    )))
}

const CHAIN: &str = "talking to smtp: connection refused";

#[job(retries = 0)]
async fn anyhow_context() -> anyhow::Result<()> {
    Err(anyhow::anyhow!("connection refused").context("talking to smtp"))
}

#[job(retries = 0)]
async fn boxed_error() -> Result<(), Box<dyn Error + Send + Sync>> {
    send()?;
    Ok(())
}

#[job(retries = 0)]
async fn concrete_error() -> Result<(), Smtp> {
    send()
}

#[job(retries = 0)]
async fn question_mark() -> Result<(), JobError> {
    send()?;
    Ok(())
}

const PANIC_LINE: u32 = line!() + 3;
#[job(retries = 0)]
async fn panics() {
    panic!("kaboom");
}

#[tokio::test]
async fn failed_attempts_keep_the_cause_chain_and_the_panic_location() -> Result<(), Box<dyn Error>>
{
    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let chained = [
        anyhow_context::enqueue(&client).await?,
        boxed_error::enqueue(&client).await?,
        concrete_error::enqueue(&client).await?,
        question_mark::enqueue(&client).await?,
    ];
    let panicked = panics::enqueue(&client).await?;
    let worker = Worker::builder(backend)
        .only(&[
            anyhow_context::NAME,
            boxed_error::NAME,
            concrete_error::NAME,
            question_mark::NAME,
            panics::NAME,
        ])
        .build()?
        .start();

    let mut messages = Vec::new();
    for id in chained {
        let dead = wait_for_state(&client, id, JobState::Dead).await;
        messages.push((dead.kind, dead.errors[0].message.clone()));
    }
    let dead = wait_for_state(&client, panicked, JobState::Dead).await;
    worker.shutdown().await;

    let expected: Vec<_> = [
        anyhow_context::NAME,
        boxed_error::NAME,
        concrete_error::NAME,
        question_mark::NAME,
    ]
    .into_iter()
    .map(|kind| (kind.to_owned(), CHAIN.to_owned()))
    .collect();
    assert_eq!(messages, expected);

    let message = &dead.errors[0].message;
    let at = format!("{}:{PANIC_LINE}:", file!());
    assert!(message.starts_with("panicked at "), "{message}");
    assert!(message.contains(&at), "{message} should contain {at}");
    assert!(message.ends_with(": kaboom"), "{message}");
    Ok(())
}
