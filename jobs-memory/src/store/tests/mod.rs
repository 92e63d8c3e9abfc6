//! Store-level tests: every transition, without a runtime, on a fixed clock.

use chrono::{TimeDelta, TimeZone};

use jobs_core::backend::ScheduleSpec;
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
        scheduled_at: None,
        unique_key: None,
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
    let request = FetchRequest {
        queue,
        kinds,
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
        vec![Completion {
            id,
            attempt,
            outcome,
        }],
        now,
    );
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
