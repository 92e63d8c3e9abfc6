//! `Client::health` on a bounded memory backend: how full it is.

use std::time::Duration;

use jobs_core::{Client, HealthStatus, HealthThresholds, job};
use jobs_memory::MemoryBackend;

#[job(queue = "later")]
async fn later(n: u32) {
    let _ = n;
}

/// Fills the store to `n` unfinished jobs, all scheduled an hour ahead (so
/// no other health rule applies).
async fn fill_to(client: &Client, from: u32, n: u32) {
    for i in from..n {
        later::with(i)
            .run_at(Duration::from_secs(3_600))
            .try_enqueue(client)
            .await
            .expect("room for it");
    }
}

#[tokio::test]
async fn a_store_75_percent_full_is_degraded_and_95_percent_unhealthy() {
    let backend = MemoryBackend::with_capacity(20);
    let client = Client::new(backend.clone());
    fill_to(&client, 0, 14).await;
    let health = client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "70 %: {health:?}");

    fill_to(&client, 14, 15).await;
    let health = client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert_eq!(
        health.reasons,
        ["the store is 75 % full (15 of 20 unfinished jobs it can hold)"]
    );

    fill_to(&client, 15, 19).await;
    let health = client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Unhealthy, "{health:?}");
    assert_eq!(
        health.reasons,
        ["the store is 95 % full (19 of 20 unfinished jobs it can hold)"]
    );

    // the thresholds are the caller's
    let lenient = HealthThresholds {
        degraded_fill: 0.99,
        unhealthy_fill: 1.0,
        ..HealthThresholds::default()
    };
    let health = client.health_with(lenient).await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
}

#[tokio::test]
async fn a_store_of_capacity_zero_is_unhealthy() {
    let client = Client::new(MemoryBackend::with_capacity(0));
    let health = client.health().await.unwrap();
    assert_eq!(health.status, HealthStatus::Unhealthy, "{health:?}");
}
