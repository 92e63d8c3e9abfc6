//! Recurring schedules: every worker declares the ones its binary links,
//! and the leader turns the due ticks of every stored schedule into jobs.
//!
//! Declaring and ticking are apart on purpose. A worker stores its
//! binary's schedules when it starts (the newest binary's definition wins,
//! so a rolling deploy updates a schedule) and then keeps vouching for them
//! while it runs; a stored schedule nobody vouches for is reported as
//! orphaned. The leader ticks every stored schedule, from the definition
//! stored with it (cron, zone, misfire policy and the job to enqueue), so
//! no tick is lost whichever workers lead: one narrowed with `.only(..)`,
//! or an old binary that does not know a schedule a new one added.
//!
//! Schedules stored at run time (`Client::upsert_schedule`) are ticked the
//! same way. Workers vouch for them by kind: each declaration names the
//! job kinds the worker runs, so a run-time schedule is orphaned only
//! while no live worker runs its kind. A `#[recurring]` declaration takes
//! over a run-time schedule stored under its id (declared wins; logged).
//!
//! A tick advances the stored next tick with a compare-and-set that
//! inserts the jobs in the same step, so each tick yields one job even if
//! two workers both think they lead for a moment. The compare includes the
//! definition the leader read, so an upsert in between (a new deploy, a
//! run-time update) is never ticked with the old job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backend::{
    LATEST, NewJob, ScheduleAdvanceParams, ScheduleDeclareParams, ScheduleRestart, ScheduleSpec,
    ScheduleUpsertParams, ScheduledJob, StoredSchedule,
};
use crate::cron::CronSchedule;
use crate::registry::RecurringDefinition;
use crate::schedule::ScheduleOrigin;
use crate::worker::WorkerShared;
use crate::worker::backoff::ErrorBackoff;

/// A schedule this binary declares, with its parsed expression.
struct Declared {
    spec: ScheduleSpec,
    schedule: CronSchedule,
}

/// Parsed expressions of stored schedules, by cron and zone.
#[derive(Default)]
struct Parsed {
    by_expression: HashMap<(String, String), Option<CronSchedule>>,
}

impl Parsed {
    fn get(&mut self, spec: &ScheduleSpec) -> Option<&CronSchedule> {
        self.by_expression
            .entry((spec.cron.clone(), spec.tz.clone()))
            .or_insert_with(|| match CronSchedule::parse(&spec.cron, &spec.tz) {
                Ok(schedule) => Some(schedule),
                Err(error) => {
                    tracing::error!(schedule = %spec.id, %error, "a stored recurring schedule does not parse; it is not ticked");
                    None
                }
            })
            .as_ref()
    }
}

/// Runs until `stop` fires.
pub(crate) async fn run(
    shared: Arc<WorkerShared>,
    mut is_leader: watch::Receiver<bool>,
    stop: CancellationToken,
) {
    let declared = parse_declared(&shared);
    let ids: Vec<&str> = declared
        .iter()
        .map(|entry| entry.spec.id.as_str())
        .collect();
    // sorted, so concurrent declarations touch a store's rows in one order
    let mut kinds: Vec<&str> = shared.kinds.clone();
    kinds.sort_unstable();
    kinds.dedup();
    let vouches = !ids.is_empty() || !kinds.is_empty();
    let declare_every = shared.config.heartbeat_interval;
    let mut jumps = shared.clock.jumps();
    let mut parsed = Parsed::default();
    let mut registered = declared.is_empty();
    // declare at once: run-time schedules of these kinds are vouched for
    // from the start
    let mut next_declare = Instant::now();
    let mut backoff = ErrorBackoff::default();
    loop {
        let mut pause = shared.config.scheduler_interval;
        if !registered {
            match register(&shared, &declared).await {
                Ok(()) => registered = true,
                Err(error) => {
                    pause = backoff.failed();
                    tracing::warn!(%error, ?pause, "could not store the recurring schedules; retrying");
                }
            }
        } else if vouches && Instant::now() >= next_declare {
            let params = ScheduleDeclareParams {
                ids: &ids,
                kinds: &kinds,
                declared_for: shared.config.lease,
            };
            match shared.backend.schedule_declare(params).await {
                Ok(()) => next_declare = Instant::now() + declare_every,
                Err(error) => {
                    tracing::warn!(%error, "could not renew the declared recurring schedules")
                }
            }
        }
        if registered && *is_leader.borrow() {
            pause = match tick(&shared, &mut parsed).await {
                Ok(next) => {
                    backoff.succeeded();
                    let until_next = (next - shared.clock.now())
                        .to_std()
                        .unwrap_or(Duration::ZERO);
                    until_next.min(pause)
                }
                Err(error) => {
                    let pause = backoff.failed();
                    tracing::warn!(%error, ?pause, "recurring scheduler pass failed; retrying");
                    pause
                }
            };
        }
        if vouches {
            pause = pause.min(next_declare.saturating_duration_since(Instant::now()));
        }
        let idle = registered && !vouches && !*is_leader.borrow();
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause), if !idle => {}
            () = clock_jump(&mut jumps) => {}
            // the leader task ends only at shutdown
            changed = is_leader.changed() => if changed.is_err() { return },
        }
    }
}

fn parse_declared(shared: &WorkerShared) -> Vec<Declared> {
    let mut declared = Vec::new();
    for &definition in &shared.schedules {
        // `#[recurring]` checks the expression at compile time; a failure
        // here means a hand-written definition, reported and skipped.
        match CronSchedule::parse(definition.cron, definition.tz) {
            Ok(schedule) => declared.push(Declared {
                spec: spec_of(definition),
                schedule,
            }),
            Err(error) => {
                tracing::error!(schedule = definition.id, %error, "invalid recurring schedule; skipped")
            }
        }
    }
    declared
}

/// Stores every declared schedule, vouched for by this worker. One stored
/// at run time under a declared id is taken over: the declaration wins.
async fn register(shared: &WorkerShared, declared: &[Declared]) -> Result<(), crate::BoxError> {
    let runtime: Vec<StoredSchedule> = shared
        .backend
        .schedule_list()
        .await?
        .into_iter()
        .filter(|stored| stored.spec.origin == ScheduleOrigin::Runtime)
        .collect();
    let now = shared.clock.now();
    for entry in declared {
        if let Some(taken) = runtime
            .iter()
            .find(|stored| stored.spec.id == entry.spec.id)
        {
            tracing::warn!(
                schedule = %entry.spec.id,
                replaced_kind = %taken.spec.job.kind,
                kind = %entry.spec.job.kind,
                "a `#[recurring]` schedule takes over the run-time schedule stored under its id; the declaration wins"
            );
        }
        let first = entry.schedule.next_after(now).unwrap_or(LATEST);
        let params = ScheduleUpsertParams {
            spec: &entry.spec,
            next_run_at: first,
            declared_for: shared.config.lease,
            restart: ScheduleRestart::OnTimingChange,
        };
        shared.backend.schedule_upsert(params).await?;
    }
    Ok(())
}

/// Enqueues every due tick of every stored schedule; returns when the next
/// tick is due.
async fn tick(
    shared: &WorkerShared,
    parsed: &mut Parsed,
) -> Result<DateTime<Utc>, crate::BoxError> {
    let now = shared.clock.now();
    let mut earliest = LATEST;
    for stored in shared.backend.schedule_list().await? {
        if stored.next_run_at > now {
            earliest = earliest.min(stored.next_run_at);
            continue;
        }
        let Some(schedule) = parsed.get(&stored.spec) else {
            continue;
        };
        let next = advance(shared, schedule, &stored, now).await?;
        earliest = earliest.min(next);
    }
    Ok(earliest)
}

/// Fires the due ticks of one schedule; returns its next tick.
async fn advance(
    shared: &WorkerShared,
    schedule: &CronSchedule,
    stored: &StoredSchedule,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, crate::BoxError> {
    let spec = &stored.spec;
    let plan = schedule.plan(
        stored.next_run_at,
        now,
        spec.misfire,
        shared.config.misfire_threshold,
    );
    let next = plan.next_run_at.unwrap_or(LATEST);
    let jobs: Vec<NewJob> = plan
        .fire
        .iter()
        .map(|&tick| tick_job(&spec.job, tick))
        .collect();
    let fired = jobs.len();
    let params = ScheduleAdvanceParams {
        spec,
        expected_next: stored.next_run_at,
        next_run_at: next,
        jobs,
    };
    if shared.backend.schedule_advance(params).await? {
        tracing::info!(schedule = %spec.id, jobs = fired, next = %next, "recurring schedule ticked");
    }
    Ok(next)
}

fn spec_of(definition: &RecurringDefinition) -> ScheduleSpec {
    let job = definition.job;
    ScheduleSpec {
        id: definition.id.to_owned(),
        cron: definition.cron.to_owned(),
        tz: definition.tz.to_owned(),
        misfire: definition.misfire,
        job: ScheduledJob {
            kind: job.name.to_owned(),
            queue: job.queue.to_owned(),
            args: "{}".to_owned(),
            priority: job.priority,
            max_attempts: job.retry.max_attempts(),
            version: job.version,
        },
        origin: ScheduleOrigin::Declared,
    }
}

fn tick_job(job: &ScheduledJob, tick: DateTime<Utc>) -> NewJob {
    stored_schedule_job(job, Some(tick))
}

/// The job a stored schedule enqueues, due at `scheduled_at` (`None`:
/// now): what each tick stores, and what `Client::trigger_schedule` does.
pub(crate) fn stored_schedule_job(
    job: &ScheduledJob,
    scheduled_at: Option<DateTime<Utc>>,
) -> NewJob {
    // a run-time schedule of a keyed kind (`Schedule::new(..).job(..)`)
    // keys its ticks as an enqueue would, when this binary links the kind
    let concurrency_key = crate::registry::jobs()
        .find(|definition| definition.name == job.kind)
        .and_then(|definition| definition.concurrency_key_of(&job.args));
    NewJob {
        kind: job.kind.clone().into(),
        queue: job.queue.clone().into(),
        args: job.args.clone(),
        priority: job.priority,
        max_attempts: job.max_attempts,
        version: job.version,
        scheduled_at,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key,
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
