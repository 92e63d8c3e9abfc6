//! Store-level tests: every transition, without a runtime, on a fixed clock.

use chrono::{TimeDelta, TimeZone};

use jobs_core::backend::{JobPruneParams, RunningAttempt, ScheduleSpec, ScheduledJob, before};
use jobs_core::cron::Misfire;
use jobs_core::retry::{Backoff, RetryPolicy};
use jobs_core::testing::Outcome;
use jobs_core::{AttemptError, Counts, JobFilter};

use crate::view::JobView;

use super::*;

mod admin;
mod invariants;
mod leader;
mod running;

const LEASE: Duration = Duration::from_secs(30);

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

fn store(capacity: usize) -> Store {
    Store::new(Config::with_capacity(capacity))
}

fn job(kind: &str) -> NewJob {
    NewJob {
        kind: kind.to_owned().into(),
        queue: "default".into(),
        args: r#"{"n":1}"#.into(),
        priority: 0,
        max_attempts: 3,
        version: 1,
        scheduled_at: None,
        unique_key: None,
        parents: Vec::new(),
        batch: None,
        concurrency_key: None,
    }
}

fn on(queue: &str, mut job: NewJob) -> NewJob {
    job.queue = queue.to_owned().into();
    job
}

fn at(when: DateTime<Utc>, mut job: NewJob) -> NewJob {
    job.scheduled_at = Some(when);
    job
}

fn unique(key: &str, mut job: NewJob) -> NewJob {
    job.unique_key = Some(key.into());
    job
}

fn insert(store: &mut Store, jobs: Vec<NewJob>, now: DateTime<Utc>) -> Vec<JobId> {
    store
        .insert_many(jobs, now, Room::Bounded)
        .map_err(|(_, rejected)| rejected)
        .expect("room")
}

fn fetch_from(
    store: &mut Store,
    queue: &str,
    kinds: &[&'static str],
    limit: usize,
    now: DateTime<Utc>,
) -> FetchedBatch {
    let request = JobFetchParams {
        queue,
        kinds,
        versions: &[],
        limit,
        worker_id: "test",
        lease: LEASE,
    };
    store.fetch(&request, now)
}

fn fetch(store: &mut Store, limit: usize, now: DateTime<Utc>) -> Vec<JobId> {
    let batch = fetch_from(store, "default", &["a", "b"], limit, now);
    batch.jobs.iter().map(|job| job.id).collect()
}

fn complete(store: &mut Store, id: JobId, attempt: u32, outcome: Outcome, now: DateTime<Utc>) {
    store.complete_many(
        vec![outcome.into_transition(RunningAttempt { id, attempt })],
        now,
    );
}

fn runs(runs: &[(JobId, u32)]) -> Vec<RunningAttempt> {
    runs.iter()
        .map(|&(id, attempt)| RunningAttempt { id, attempt })
        .collect()
}

/// How long finished jobs are kept in these tests unless one says otherwise.
const RETENTION: (Duration, Duration) = (
    Duration::from_secs(24 * 3600),
    Duration::from_secs(7 * 24 * 3600),
);

/// What the leader's maintenance pass asks of the store, with retries due at
/// once: returns how many jobs were rescued and pruned.
fn maintain(store: &mut Store, now: DateTime<Utc>) -> (u64, u64) {
    maintain_with(store, now, RETENTION)
}

fn maintain_with(
    store: &mut Store,
    now: DateTime<Utc>,
    (completed, failed): (Duration, Duration),
) -> (u64, u64) {
    let at_once = RetryPolicy::new(3).backoff(Backoff::None, Duration::ZERO, Duration::ZERO);
    let transitions = store
        .expired(usize::MAX, now)
        .iter()
        .map(|expired| jobs_core::testing::rescue(expired, &at_once, now))
        .collect();
    let rescued = store.rescue_many(transitions, now);
    let pruned = store.prune(JobPruneParams {
        completed_before: before(now, completed),
        failed_before: before(now, failed),
        limit: usize::MAX,
    });
    (rescued, pruned)
}

/// A schedule enqueueing `report` on the default queue.
pub(crate) fn spec(id: &str, cron: &str) -> ScheduleSpec {
    ScheduleSpec {
        id: id.into(),
        cron: cron.into(),
        tz: "UTC".into(),
        misfire: Misfire::Once,
        job: ScheduledJob {
            kind: "report".into(),
            queue: "default".into(),
            args: "{}".into(),
            priority: 0,
            max_attempts: 4,
            version: 1,
        },
        origin: jobs_core::ScheduleOrigin::Declared,
    }
}

fn view(store: &mut Store, id: JobId, now: DateTime<Utc>) -> JobView {
    store.get(id, now).expect("stored")
}

fn state(store: &mut Store, id: JobId, now: DateTime<Utc>) -> JobState {
    view(store, id, now).state
}

fn error(attempt: u32, message: &str, now: DateTime<Utc>) -> AttemptError {
    AttemptError {
        attempt,
        message: message.into(),
        at: now,
    }
}
