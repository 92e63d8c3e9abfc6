//! On the leader: turns cron ticks into jobs.
//!
//! Each declared schedule is stored with its next tick. When a tick is due,
//! the scheduler plans the jobs per the misfire policy and advances the
//! stored tick with a compare-and-set that inserts the jobs in the same
//! step, so each tick yields one job even if two workers both think they
//! lead for a moment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::backend::{NewJob, ScheduleSpec};
use crate::cron::CronSchedule;
use crate::registry::RecurringDefinition;
use crate::worker::WorkerShared;
use crate::worker::backoff::ErrorBackoff;
use crate::worker::leader::wait_for_leadership;

/// A declared schedule with its parsed expression.
struct Declared {
    definition: &'static RecurringDefinition,
    schedule: CronSchedule,
}

/// Runs until `stop` fires.
pub(crate) async fn run(
    shared: Arc<WorkerShared>,
    mut is_leader: watch::Receiver<bool>,
    stop: CancellationToken,
) {
    let declared = parse_declared(&shared);
    if declared.is_empty() {
        return;
    }
    let mut jumps = shared.clock.jumps();
    let mut registered = false;
    let mut backoff = ErrorBackoff::default();
    loop {
        if !*is_leader.borrow() {
            // a new term stores the schedules again: another binary may
            // have changed them while this worker followed
            registered = false;
        }
        if !wait_for_leadership(&mut is_leader, &stop).await {
            return;
        }
        if !registered {
            match register(&shared, &declared).await {
                Ok(()) => registered = true,
                Err(error) => {
                    let pause = backoff.failed();
                    tracing::warn!(%error, ?pause, "could not store the recurring schedules; retrying");
                    sleep_or_stop(pause, &stop).await;
                    continue;
                }
            }
        }
        let pause = match tick(&shared, &declared).await {
            Ok(next) => {
                backoff.succeeded();
                let until_next = (next - shared.clock.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                until_next.min(shared.config.scheduler_interval)
            }
            Err(error) => {
                let pause = backoff.failed();
                tracing::warn!(%error, ?pause, "recurring scheduler pass failed; retrying");
                pause
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
            () = clock_jump(&mut jumps) => {}
            _ = is_leader.changed() => {}
        }
    }
}

fn parse_declared(shared: &WorkerShared) -> HashMap<&'static str, Declared> {
    let mut declared = HashMap::new();
    for &definition in &shared.schedules {
        // `#[recurring]` checks the expression at compile time; a failure
        // here means a hand-written definition, reported and skipped.
        match CronSchedule::parse(definition.cron, definition.tz) {
            Ok(schedule) => {
                declared.insert(
                    definition.id,
                    Declared {
                        definition,
                        schedule,
                    },
                );
            }
            Err(error) => {
                tracing::error!(schedule = definition.id, %error, "invalid recurring schedule; skipped")
            }
        }
    }
    declared
}

/// Stores every declared schedule and reports stored ones nobody declares.
async fn register(
    shared: &WorkerShared,
    declared: &HashMap<&'static str, Declared>,
) -> Result<(), crate::BoxError> {
    let now = shared.clock.now();
    for entry in declared.values() {
        let spec = spec_of(entry.definition);
        let first = entry
            .schedule
            .next_after(now)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        shared.backend.schedule_upsert(&spec, first).await?;
    }
    for stored in shared.backend.schedule_list().await? {
        if !declared.contains_key(stored.spec.id.as_str()) {
            tracing::warn!(
                schedule = %stored.spec.id,
                kind = %stored.spec.kind,
                "a stored recurring schedule is declared by no job in this binary; it stays stored \
                 (remove it with `client.remove_schedule(id)` if it is gone for good)"
            );
        }
    }
    Ok(())
}

/// Enqueues every due tick; returns when the next tick is due.
async fn tick(
    shared: &WorkerShared,
    declared: &HashMap<&'static str, Declared>,
) -> Result<DateTime<Utc>, crate::BoxError> {
    let now = shared.clock.now();
    let mut earliest = DateTime::<Utc>::MAX_UTC;
    for stored in shared.backend.schedule_list().await? {
        let Some(entry) = declared.get(stored.spec.id.as_str()) else {
            continue;
        };
        if stored.spec != spec_of(entry.definition) {
            // another binary's version of this schedule; the next register
            // (after a leadership change) will take ours
            continue;
        }
        if stored.next_run_at > now {
            earliest = earliest.min(stored.next_run_at);
            continue;
        }
        let plan = entry.schedule.plan(
            stored.next_run_at,
            now,
            entry.definition.misfire,
            shared.config.misfire_threshold,
        );
        let next = plan.next_run_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let jobs: Vec<NewJob> = plan
            .fire
            .iter()
            .map(|&tick| tick_job(entry.definition, tick))
            .collect();
        let fired = jobs.len();
        if shared
            .backend
            .schedule_advance(&stored.spec.id, stored.next_run_at, next, jobs)
            .await?
        {
            tracing::info!(schedule = %stored.spec.id, jobs = fired, next = %next, "recurring schedule ticked");
        }
        earliest = earliest.min(next);
    }
    Ok(earliest)
}

fn spec_of(definition: &RecurringDefinition) -> ScheduleSpec {
    ScheduleSpec {
        id: definition.id.to_owned(),
        kind: definition.job.name.to_owned(),
        cron: definition.cron.to_owned(),
        tz: definition.tz.to_owned(),
    }
}

fn tick_job(definition: &RecurringDefinition, tick: DateTime<Utc>) -> NewJob {
    let job = definition.job;
    NewJob {
        kind: job.name.into(),
        queue: job.queue.into(),
        args: "{}".to_owned(),
        priority: job.priority,
        max_attempts: job.retry.max_attempts(),
        scheduled_at: Some(tick),
        unique_key: None,
    }
}

async fn clock_jump(jumps: &mut Option<watch::Receiver<DateTime<Utc>>>) {
    match jumps {
        Some(receiver) => {
            if receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

async fn sleep_or_stop(pause: Duration, stop: &CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(pause) => {}
    }
}
