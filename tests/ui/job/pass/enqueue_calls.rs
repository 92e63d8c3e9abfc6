#![deny(warnings)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::{job, Client, EnqueueError, JobId};

#[job]
async fn send_welcome_email(user_id: i64, template: String) {
    let _ = (user_id, template);
}

#[job]
async fn no_arguments() {}

/// Every way to enqueue; compiled, not run (running needs a backend).
#[allow(dead_code)]
async fn usage(client: &Client, at: DateTime<Utc>) -> Result<Vec<JobId>, EnqueueError> {
    let mut ids = vec![
        send_welcome_email::enqueue(client, 42, "welcome".into()).await?,
        send_welcome_email::try_enqueue(client, 42, "welcome".into()).await?,
        send_welcome_email::schedule(client, Duration::from_secs(3 * 86_400), 42, "reminder".into())
            .await?,
        send_welcome_email::schedule(client, at, 42, "reminder".into()).await?,
        no_arguments::enqueue(client).await?,
        no_arguments::schedule(client, Duration::from_secs(1)).await?,
    ];
    ids.push(
        send_welcome_email::with(42, "welcome".into())
            .delay(Duration::from_secs(60))
            .priority(-5)
            .queue("critical")
            .unique_key("welcome-42")
            .enqueue(client)
            .await?,
    );
    ids.extend(
        client
            .enqueue_many(vec![
                send_welcome_email::with(1, "a".into()),
                no_arguments::with().at(at),
            ])
            .await?,
    );
    Ok(ids)
}

/// The enqueue futures can be spawned.
#[allow(dead_code)]
fn spawnable(client: Client) {
    fn assert_send<T: Send + 'static>(_: T) {}
    assert_send(async move { send_welcome_email::enqueue(&client, 1, "x".into()).await });
}

fn main() {}
