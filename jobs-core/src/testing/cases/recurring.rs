//! Recurring schedules under a stubbed clock: one job per tick however many
//! workers run, daylight saving time in Europe/Berlin, misfire policies.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::testing::jobs::{
    berlin_half_past_two, berlin_quarter_hours, every_minute, misfire_all, misfire_once,
    misfire_skip, triggered,
};
use crate::testing::{Env, eventually, wait_for_state};
use crate::{JobFilter, JobState, ManualClock, WorkerHandle};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("a valid UTC time")
}

fn start(env: &Env, kind: &str, clock: &ManualClock) -> WorkerHandle {
    env.worker(&[kind])
        .clock(clock.clone())
        .misfire_threshold(Duration::from_secs(10))
        .build()
        .unwrap()
        .start()
}

/// Waits until schedule `id` is stored with its next tick after the clock's
/// time: every tick up to now has been handled.
async fn caught_up(env: &Env, id: &str, clock: &ManualClock) {
    let now = clock_now(clock);
    let client = env.client.clone();
    let id = id.to_owned();
    eventually(&format!("schedule `{id}` to pass {now}"), move || {
        let client = client.clone();
        let id = id.clone();
        async move {
            let stored = client.schedules().await.unwrap();
            stored.iter().any(|s| s.id == id && s.next_run_at > now)
        }
    })
    .await;
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    crate::Clock::now(clock)
}

/// Moves the clock from its time to `until` in `step`s, letting the
/// scheduler catch up after each.
async fn walk(
    env: &Env,
    id: &str,
    clock: &ManualClock,
    until: DateTime<Utc>,
    step: chrono::Duration,
) {
    while clock_now(clock) < until {
        clock.advance(step);
        caught_up(env, id, clock).await;
    }
}

/// The scheduled times of the stored jobs of `kind`, in order.
async fn ticks_of(env: &Env, kind: &str) -> Vec<DateTime<Utc>> {
    let jobs = env
        .client
        .list(JobFilter::new().kind(kind).limit(10_000))
        .await
        .unwrap();
    let mut ticks: Vec<_> = jobs.into_iter().map(|job| job.scheduled_at).collect();
    ticks.sort();
    ticks
}

pub async fn trigger_enqueues_a_recurring_job_now(env: Env) {
    let worker = env.worker(&[triggered::NAME]).build().unwrap().start();
    let id = triggered::trigger(&env.client).await.unwrap();
    let done = wait_for_state(&env.client, id, JobState::Completed).await;
    worker.shutdown().await;
    assert_eq!(done.kind, triggered::NAME);
    assert_eq!(env.probe.runs_of(id).len(), 1);
}

pub async fn recurring_ticks_once_per_tick_across_workers(env: Env) {
    let clock = ManualClock::new(utc(2026, 1, 1, 0, 0, 0));
    let workers = [
        start(&env, every_minute::NAME, &clock),
        start(&env, every_minute::NAME, &clock),
        start(&env, every_minute::NAME, &clock),
    ];
    caught_up(&env, every_minute::ID, &clock).await;
    walk(
        &env,
        every_minute::ID,
        &clock,
        utc(2026, 1, 1, 0, 5, 0),
        chrono::Duration::seconds(20),
    )
    .await;
    for worker in workers {
        worker.shutdown().await;
    }
    let expected: Vec<_> = (1..=5)
        .map(|minute| utc(2026, 1, 1, 0, minute, 0))
        .collect();
    assert_eq!(
        ticks_of(&env, every_minute::NAME).await,
        expected,
        "one job per tick with three workers"
    );
}

pub async fn recurring_spring_forward_fires_after_the_gap(env: Env) {
    // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    let clock = ManualClock::new(utc(2026, 3, 27, 12, 0, 0));
    let worker = start(&env, berlin_half_past_two::NAME, &clock);
    caught_up(&env, berlin_half_past_two::ID, &clock).await;
    walk(
        &env,
        berlin_half_past_two::ID,
        &clock,
        utc(2026, 3, 30, 12, 0, 0),
        chrono::Duration::hours(1),
    )
    .await;
    worker.shutdown().await;
    assert_eq!(
        ticks_of(&env, berlin_half_past_two::NAME).await,
        [
            utc(2026, 3, 28, 1, 30, 0), // 02:30 CET
            utc(2026, 3, 29, 1, 0, 0),  // 03:00 CEST, the first instant after the gap
            utc(2026, 3, 30, 0, 30, 0), // 02:30 CEST
        ]
    );
}

pub async fn recurring_fall_back_fires_once(env: Env) {
    // Berlin, 2025-10-26: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    let clock = ManualClock::new(utc(2025, 10, 25, 12, 0, 0));
    let worker = start(&env, berlin_half_past_two::NAME, &clock);
    caught_up(&env, berlin_half_past_two::ID, &clock).await;
    walk(
        &env,
        berlin_half_past_two::ID,
        &clock,
        utc(2025, 10, 27, 12, 0, 0),
        chrono::Duration::hours(1),
    )
    .await;
    worker.shutdown().await;
    assert_eq!(
        ticks_of(&env, berlin_half_past_two::NAME).await,
        [
            utc(2025, 10, 26, 0, 30, 0), // 02:30 CEST, the first of the two
            utc(2025, 10, 27, 1, 30, 0), // 02:30 CET the next day
        ]
    );
}

pub async fn recurring_quarter_hours_run_through_the_repeated_hour(env: Env) {
    let clock = ManualClock::new(utc(2025, 10, 25, 23, 50, 0));
    let worker = start(&env, berlin_quarter_hours::NAME, &clock);
    caught_up(&env, berlin_quarter_hours::ID, &clock).await;
    walk(
        &env,
        berlin_quarter_hours::ID,
        &clock,
        utc(2025, 10, 26, 2, 10, 0),
        chrono::Duration::minutes(5),
    )
    .await;
    worker.shutdown().await;
    // 00:00Z is 02:00 CEST and 01:00Z is 02:00 CET: both copies of the hour
    let expected: Vec<_> = (0..9)
        .map(|n| utc(2025, 10, 26, 0, 0, 0) + chrono::Duration::minutes(15 * n))
        .collect();
    assert_eq!(ticks_of(&env, berlin_quarter_hours::NAME).await, expected);
}

/// Registers the schedule at 00:00:30, stops the worker (no leader for
/// eleven minutes), then starts a new one at 00:11:45: the ticks at
/// 00:01 … 00:11 were missed, the newest 45 s ago (over the 10 s threshold).
async fn outage(env: &Env, kind: &str, id: &str) -> (ManualClock, WorkerHandle) {
    let clock = ManualClock::new(utc(2026, 1, 1, 0, 0, 30));
    let first = start(env, kind, &clock);
    caught_up(env, id, &clock).await;
    first.shutdown().await;
    clock.set(utc(2026, 1, 1, 0, 11, 45));
    let second = start(env, kind, &clock);
    caught_up(env, id, &clock).await;
    (clock, second)
}

pub async fn misfire_once_runs_one_catch_up(env: Env) {
    let (clock, worker) = outage(&env, misfire_once::NAME, misfire_once::ID).await;
    assert_eq!(
        ticks_of(&env, misfire_once::NAME).await,
        [utc(2026, 1, 1, 0, 11, 0)],
        "one catch-up run"
    );
    walk(
        &env,
        misfire_once::ID,
        &clock,
        utc(2026, 1, 1, 0, 12, 0),
        chrono::Duration::seconds(15),
    )
    .await;
    worker.shutdown().await;
    assert_eq!(
        ticks_of(&env, misfire_once::NAME).await,
        [utc(2026, 1, 1, 0, 11, 0), utc(2026, 1, 1, 0, 12, 0)],
        "then the normal schedule"
    );
}

pub async fn misfire_skip_drops_missed_ticks(env: Env) {
    let (clock, worker) = outage(&env, misfire_skip::NAME, misfire_skip::ID).await;
    assert!(
        ticks_of(&env, misfire_skip::NAME).await.is_empty(),
        "missed ticks are dropped"
    );
    walk(
        &env,
        misfire_skip::ID,
        &clock,
        utc(2026, 1, 1, 0, 12, 0),
        chrono::Duration::seconds(15),
    )
    .await;
    worker.shutdown().await;
    assert_eq!(
        ticks_of(&env, misfire_skip::NAME).await,
        [utc(2026, 1, 1, 0, 12, 0)],
        "on-time ticks still run"
    );
}

pub async fn misfire_all_runs_every_missed_tick(env: Env) {
    let (_clock, worker) = outage(&env, misfire_all::NAME, misfire_all::ID).await;
    worker.shutdown().await;
    let expected: Vec<_> = (1..=11)
        .map(|minute| utc(2026, 1, 1, 0, minute, 0))
        .collect();
    assert_eq!(
        ticks_of(&env, misfire_all::NAME).await,
        expected,
        "every missed tick"
    );
}

pub async fn removed_schedule_is_forgotten(env: Env) {
    let clock = ManualClock::new(utc(2026, 1, 1, 0, 0, 0));
    let worker = start(&env, every_minute::NAME, &clock);
    caught_up(&env, every_minute::ID, &clock).await;
    worker.shutdown().await;
    assert!(env.client.remove_schedule(every_minute::ID).await.unwrap());
    let stored = env.client.schedules().await.unwrap();
    assert!(
        stored.iter().all(|s| s.id != every_minute::ID),
        "{stored:?}"
    );
    assert!(!env.client.remove_schedule(every_minute::ID).await.unwrap());
}
