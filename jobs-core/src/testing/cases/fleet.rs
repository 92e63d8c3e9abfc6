//! A mixed fleet: whichever worker leads ticks every stored schedule, from
//! the definition stored with it, and schedules no live worker declares
//! are reported as orphaned.

use std::time::Duration;

use crate::ScheduleOrigin;
use crate::backend::{ScheduleRestart, ScheduleSpec, ScheduleUpsertParams, ScheduledJob};
use crate::cron::Misfire;
use crate::testing::jobs::{record, triggered};
use crate::testing::{Env, eventually};
use crate::{JobFilter, JobState};

/// A schedule another binary stored: every second, enqueueing `record`
/// with the label "tick", declared by a worker that has since gone.
async fn store_foreign_schedule(env: &Env) {
    let spec = ScheduleSpec {
        id: "conformance-foreign".into(),
        cron: "* * * * * *".into(),
        tz: "UTC".into(),
        misfire: Misfire::Skip,
        job: ScheduledJob {
            kind: record::NAME.into(),
            queue: "default".into(),
            args: r#"{"label":"tick"}"#.into(),
            priority: 0,
            max_attempts: 1,
            version: 1,
        },
        origin: ScheduleOrigin::Declared,
    };
    let params = ScheduleUpsertParams {
        spec: &spec,
        next_run_at: chrono::Utc::now(),
        declared_for: Duration::ZERO,
        restart: ScheduleRestart::OnTimingChange,
    };
    env.backend.schedule_upsert(params).await.unwrap();
}

pub async fn a_schedule_no_worker_declares_still_ticks_and_is_orphaned(env: Env) {
    store_foreign_schedule(&env).await;
    // this worker links no `#[recurring]` of that id, and leads
    let worker = env.worker(&[record::NAME]).build().unwrap().start();
    let probe = env.probe.clone();
    eventually("two ticks of the stored schedule ran", move || {
        let probe = probe.clone();
        async move {
            probe
                .runs()
                .iter()
                .filter(|run| run.label == "tick")
                .count()
                >= 2
        }
    })
    .await;
    worker.shutdown().await;
    let schedules = env.client.schedules().await.unwrap();
    let foreign = schedules
        .iter()
        .find(|schedule| schedule.id == "conformance-foreign")
        .expect("still stored");
    assert!(foreign.orphaned, "no live worker declares it: {foreign:?}");
    assert_eq!(
        (foreign.kind.as_str(), foreign.queue.as_str()),
        (record::NAME, "default")
    );
    let ticks = env
        .client
        .list(
            JobFilter::new()
                .kind(record::NAME)
                .state(JobState::Completed),
        )
        .await
        .unwrap();
    let mut due: Vec<_> = ticks.iter().map(|job| job.scheduled_at).collect();
    due.sort();
    due.dedup();
    assert_eq!(due.len(), ticks.len(), "one job per tick: {ticks:#?}");
}

pub async fn a_declared_schedule_is_not_orphaned(env: Env) {
    let worker = env.worker(&[triggered::NAME]).build().unwrap().start();
    let client = env.client.clone();
    eventually("the worker stores what it declares", move || {
        let client = client.clone();
        async move {
            client
                .schedules()
                .await
                .unwrap()
                .iter()
                .any(|schedule| schedule.id == triggered::ID && !schedule.orphaned)
        }
    })
    .await;
    // its declaration outlives a lease while the worker runs
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let schedules = env.client.schedules().await.unwrap();
    let declared = schedules
        .iter()
        .find(|schedule| schedule.id == triggered::ID)
        .expect("stored");
    assert!(!declared.orphaned, "its worker is alive: {declared:?}");
    worker.shutdown().await;
}
