//! Recurring schedules' compare-and-set, and leader election.

use super::*;

fn spec(id: &str, cron: &str) -> ScheduleSpec {
    ScheduleSpec {
        id: id.into(),
        kind: "tick".into(),
        cron: cron.into(),
        tz: "UTC".into(),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn schedule_advance_is_a_compare_and_set_with_its_jobs() {
    let backend = fresh_backend().await;
    let t0 = at("2026-01-01T00:01:00Z");
    let stored = backend
        .schedule_upsert(&spec("s", "0 * * * * *"), t0)
        .await
        .unwrap();
    assert_eq!(stored.next_run_at, t0);
    // an unchanged schedule keeps its stored tick; a changed one restarts
    let kept = backend
        .schedule_upsert(&spec("s", "0 * * * * *"), at("2026-01-01T05:00:00Z"))
        .await
        .unwrap();
    assert_eq!(kept.next_run_at, t0);

    let tick_job = |tick| NewJob {
        scheduled_at: Some(tick),
        ..job("tick")
    };
    let t1 = at("2026-01-01T00:02:00Z");
    assert!(
        !backend
            .schedule_advance("s", t1, t1, vec![tick_job(t1)])
            .await
            .unwrap(),
        "wrong expectation"
    );
    assert!(
        backend
            .job_list(&jobs_core::JobFilter::new())
            .await
            .unwrap()
            .is_empty()
    );

    // ten racers for one tick: one wins, one job
    let mut racers = Vec::new();
    for _ in 0..10 {
        let backend = backend.clone();
        racers.push(tokio::spawn(async move {
            backend
                .schedule_advance("s", t0, t1, vec![tick_job(t0)])
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1);
    let jobs = backend
        .job_list(&jobs_core::JobFilter::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].scheduled_at, t0);
    let listed = backend.schedule_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].next_run_at, t1);
    assert!(listed[0].last_run_at.is_some());

    let changed = backend
        .schedule_upsert(&spec("s", "0 */5 * * * *"), at("2026-01-01T00:05:00Z"))
        .await
        .unwrap();
    assert_eq!(changed.next_run_at, at("2026-01-01T00:05:00Z"));
    assert!(backend.schedule_remove("s").await.unwrap());
    assert!(!backend.schedule_remove("s").await.unwrap());
    assert!(
        !backend
            .schedule_advance("s", at("2026-01-01T00:05:00Z"), t1, vec![])
            .await
            .unwrap()
    );
    drop_schema(&backend).await;
}

#[tokio::test]
async fn leadership_passes_on_when_the_term_expires() {
    let backend = fresh_backend().await;
    let ttl = Duration::from_millis(600);
    assert!(backend.leader_elect("a", ttl).await.unwrap());
    assert!(!backend.leader_elect("b", ttl).await.unwrap());
    assert!(backend.leader_elect("a", ttl).await.unwrap(), "renewed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        backend.leader_elect("a", ttl).await.unwrap(),
        "renewed before it lapsed"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !backend.leader_elect("b", ttl).await.unwrap(),
        "the renewal extended the term"
    );
    // `a` dies: no more renewals
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        backend.leader_elect("b", ttl).await.unwrap(),
        "taken over after expiry"
    );
    assert!(
        !backend.leader_elect("a", ttl).await.unwrap(),
        "the old leader is a follower now"
    );
    backend.leader_resign("a").await.unwrap();
    assert!(
        !backend.leader_elect("c", ttl).await.unwrap(),
        "resigning a term not held does nothing"
    );
    backend.leader_resign("b").await.unwrap();
    assert!(
        backend.leader_elect("c", ttl).await.unwrap(),
        "free at once after resigning"
    );
    drop_schema(&backend).await;
}
