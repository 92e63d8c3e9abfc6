//! Stored recurring schedules and the compare-and-set that makes each tick
//! enqueue one job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jobs_core::backend::{ScheduleSpec, StoredSchedule};

/// Every stored schedule, by id.
#[derive(Debug, Default)]
pub(crate) struct Schedules {
    by_id: BTreeMap<String, StoredSchedule>,
}

impl Schedules {
    /// Stores a declared schedule, vouched for until `declared_until`: a
    /// new id starts at `next_run_at`; a changed cron or zone restarts
    /// there; otherwise the stored next tick is kept and the rest of the
    /// definition (misfire policy, job) is taken.
    pub(crate) fn upsert(
        &mut self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
        declared_until: DateTime<Utc>,
    ) -> StoredSchedule {
        let stored = match self.by_id.get_mut(&spec.id) {
            Some(stored) => {
                if stored.spec.cron != spec.cron || stored.spec.tz != spec.tz {
                    stored.next_run_at = next_run_at;
                }
                stored.spec.clone_from(spec);
                stored.declared_until = stored.declared_until.max(declared_until);
                stored
            }
            None => self.by_id.entry(spec.id.clone()).or_insert(StoredSchedule {
                spec: spec.clone(),
                next_run_at,
                last_run_at: None,
                declared_until,
            }),
        };
        stored.clone()
    }

    /// Renews the declarations of the stored schedules among `ids`.
    pub(crate) fn declare(&mut self, ids: &[&str], declared_until: DateTime<Utc>) {
        for id in ids {
            if let Some(stored) = self.by_id.get_mut(*id) {
                stored.declared_until = stored.declared_until.max(declared_until);
            }
        }
    }

    /// Every stored schedule, by id.
    pub(crate) fn list(&self) -> Vec<StoredSchedule> {
        self.by_id.values().cloned().collect()
    }

    /// If schedule `id`'s next tick is still `expected_next`, moves it to
    /// `next_run_at` and records `now` as its last run. Returns whether it
    /// applied.
    pub(crate) fn advance(
        &mut self,
        id: &str,
        expected_next: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        match self.by_id.get_mut(id) {
            Some(stored) if stored.next_run_at == expected_next => {
                stored.next_run_at = next_run_at;
                stored.last_run_at = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Deletes schedule `id`; returns whether it existed.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        self.by_id.remove(id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use jobs_core::backend::ScheduledJob;
    use jobs_core::cron::Misfire;

    fn spec(cron: &str) -> ScheduleSpec {
        ScheduleSpec {
            id: "nightly".into(),
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
        }
    }

    #[test]
    fn upsert_keeps_the_next_tick_unless_the_timing_changed() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        assert_eq!(
            schedules.upsert(&spec("0 0 2 * * *"), t0, t0).next_run_at,
            t0
        );
        // unchanged: the stored tick wins, so a missed tick is not lost
        assert_eq!(
            schedules.upsert(&spec("0 0 2 * * *"), t1, t0).next_run_at,
            t0
        );
        // a new kind alone is taken but the tick stays
        let mut renamed = spec("0 0 2 * * *");
        renamed.job.kind = "report_v2".into();
        let stored = schedules.upsert(&renamed, t1, t0);
        assert_eq!(
            (stored.spec.job.kind.as_str(), stored.next_run_at),
            ("report_v2", t0)
        );
        // a new cron restarts at the given tick
        assert_eq!(
            schedules.upsert(&spec("0 0 3 * * *"), t1, t0).next_run_at,
            t1
        );
        let mut zoned = spec("0 0 3 * * *");
        zoned.tz = "Europe/Berlin".into();
        assert_eq!(schedules.upsert(&zoned, t0, t0).next_run_at, t0);
        assert_eq!(schedules.list().len(), 1);
    }

    #[test]
    fn advance_is_a_compare_and_set() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let t2 = t1 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        schedules.upsert(&spec("0 0 * * * *"), t0, t0);
        assert!(schedules.advance("nightly", t0, t1, t0));
        assert!(
            !schedules.advance("nightly", t0, t1, t0),
            "the tick was taken"
        );
        assert!(!schedules.advance("missing", t1, t2, t0));
        let stored = &schedules.list()[0];
        assert_eq!((stored.next_run_at, stored.last_run_at), (t1, Some(t0)));
        assert!(schedules.remove("nightly"));
        assert!(!schedules.remove("nightly"));
        assert!(schedules.list().is_empty());
    }

    #[test]
    fn declarations_only_ever_extend() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::minutes(1);
        let mut schedules = Schedules::default();
        schedules.upsert(&spec("0 0 * * * *"), t0, t1);
        schedules.declare(&["nightly", "unknown"], t0);
        assert_eq!(schedules.list()[0].declared_until, t1);
        let t2 = t1 + TimeDelta::minutes(1);
        schedules.declare(&["nightly"], t2);
        assert_eq!(schedules.list()[0].declared_until, t2);
        assert_eq!(schedules.list().len(), 1, "an unknown id is not stored");
    }
}
