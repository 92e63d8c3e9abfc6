//! Stored recurring schedules and the compare-and-set that makes each tick
//! enqueue one job.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use jobs_core::ScheduleOrigin;
use jobs_core::backend::{EARLIEST, ScheduleRestart, ScheduleSpec, StoredSchedule};

/// Every stored schedule, by id, and until when a live worker runs each
/// job kind (which vouches for the run-time schedules of that kind).
#[derive(Debug, Default)]
pub(crate) struct Schedules {
    by_id: BTreeMap<String, StoredSchedule>,
    kinds_declared_until: HashMap<String, DateTime<Utc>>,
}

impl Schedules {
    /// Stores a schedule, vouched for until `declared_until`: a new id
    /// starts at `next_run_at`; a change that `restart` names restarts
    /// there; otherwise the stored next tick is kept and the rest of the
    /// definition is taken. A run-time spec never replaces a declared
    /// schedule: the stored one is returned unchanged.
    pub(crate) fn upsert(
        &mut self,
        spec: &ScheduleSpec,
        next_run_at: DateTime<Utc>,
        declared_until: DateTime<Utc>,
        restart: ScheduleRestart,
    ) -> StoredSchedule {
        let stored = match self.by_id.entry(spec.id.clone()) {
            Entry::Occupied(entry) => {
                let stored = entry.into_mut();
                let declared_wins = stored.spec.origin == ScheduleOrigin::Declared
                    && spec.origin == ScheduleOrigin::Runtime;
                if !declared_wins {
                    if restarts(&stored.spec, spec, restart) {
                        stored.next_run_at = next_run_at;
                    }
                    stored.spec.clone_from(spec);
                    stored.declared_until = stored.declared_until.max(declared_until);
                }
                stored.clone()
            }
            Entry::Vacant(entry) => entry
                .insert(StoredSchedule {
                    spec: spec.clone(),
                    next_run_at,
                    last_run_at: None,
                    declared_until,
                })
                .clone(),
        };
        self.reported(stored)
    }

    /// Renews the declarations of the stored schedules among `ids`, and
    /// of the kinds a live worker runs.
    pub(crate) fn declare(&mut self, ids: &[&str], kinds: &[&str], declared_until: DateTime<Utc>) {
        for id in ids {
            if let Some(stored) = self.by_id.get_mut(*id) {
                stored.declared_until = stored.declared_until.max(declared_until);
            }
        }
        for kind in kinds {
            let until = self
                .kinds_declared_until
                .entry((*kind).to_owned())
                .or_insert(declared_until);
            *until = (*until).max(declared_until);
        }
    }

    /// A stored schedule as reported: a run-time one is vouched for as
    /// long as a live worker runs its kind.
    fn reported(&self, mut stored: StoredSchedule) -> StoredSchedule {
        if stored.spec.origin == ScheduleOrigin::Runtime {
            stored.declared_until = self
                .kinds_declared_until
                .get(&stored.spec.job.kind)
                .copied()
                .unwrap_or(EARLIEST);
        }
        stored
    }

    /// Every stored schedule, by id.
    pub(crate) fn list(&self) -> Vec<StoredSchedule> {
        self.by_id
            .values()
            .map(|stored| self.reported(stored.clone()))
            .collect()
    }

    /// If schedule `spec.id`'s next tick is still `expected_next` and its
    /// definition still `spec`, moves it to
    /// `next_run_at` and records `now` as its last run. Returns whether it
    /// applied.
    pub(crate) fn advance(
        &mut self,
        spec: &ScheduleSpec,
        expected_next: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        match self.by_id.get_mut(&spec.id) {
            Some(stored) if stored.next_run_at == expected_next && stored.spec == *spec => {
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

/// Whether upserting `new` over `old` restarts the schedule at the given
/// next tick.
fn restarts(old: &ScheduleSpec, new: &ScheduleSpec, restart: ScheduleRestart) -> bool {
    let timing = old.cron != new.cron || old.tz != new.tz;
    match restart {
        ScheduleRestart::OnTimingChange => timing,
        ScheduleRestart::OnAnyChange => {
            let (was, is) = (&old.job, &new.job);
            timing
                || old.misfire != new.misfire
                || was.kind != is.kind
                || was.queue != is.queue
                || was.priority != is.priority
                || was.max_attempts != is.max_attempts
                || !same_json(&was.args, &is.args)
        }
    }
}

/// Equal as JSON values (key order and spacing aside), as PostgreSQL's
/// `jsonb` compares; text that does not parse compares as text.
fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)),
            (Ok(a), Ok(b)) if a == b
        )
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    const TIMING: ScheduleRestart = ScheduleRestart::OnTimingChange;
    const ANY: ScheduleRestart = ScheduleRestart::OnAnyChange;

    fn spec(cron: &str) -> ScheduleSpec {
        crate::store::tests::spec("nightly", cron)
    }

    #[test]
    fn upsert_keeps_the_next_tick_unless_the_timing_changed() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        assert_eq!(
            schedules
                .upsert(&spec("0 0 2 * * *"), t0, t0, TIMING)
                .next_run_at,
            t0
        );
        // unchanged: the stored tick wins, so a missed tick is not lost
        assert_eq!(
            schedules
                .upsert(&spec("0 0 2 * * *"), t1, t0, TIMING)
                .next_run_at,
            t0
        );
        // a new kind alone is taken but the tick stays
        let mut renamed = spec("0 0 2 * * *");
        renamed.job.kind = "report_v2".into();
        let stored = schedules.upsert(&renamed, t1, t0, TIMING);
        assert_eq!(
            (stored.spec.job.kind.as_str(), stored.next_run_at),
            ("report_v2", t0)
        );
        // a new cron restarts at the given tick
        assert_eq!(
            schedules
                .upsert(&spec("0 0 3 * * *"), t1, t0, TIMING)
                .next_run_at,
            t1
        );
        let mut zoned = spec("0 0 3 * * *");
        zoned.tz = "Europe/Berlin".into();
        assert_eq!(schedules.upsert(&zoned, t0, t0, TIMING).next_run_at, t0);
        assert_eq!(schedules.list().len(), 1);
    }

    #[test]
    fn advance_is_a_compare_and_set() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let t2 = t1 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        let hourly = spec("0 0 * * * *");
        schedules.upsert(&hourly, t0, t0, TIMING);
        let mut replaced = hourly.clone();
        replaced.job.queue = "reports".into();
        assert!(
            !schedules.advance(&replaced, t0, t1, t0),
            "a definition the scheduler did not read"
        );
        assert!(schedules.advance(&hourly, t0, t1, t0));
        assert!(
            !schedules.advance(&hourly, t0, t1, t0),
            "the tick was taken"
        );
        assert!(!schedules.advance(&spec("0 * * * * *"), t1, t2, t0));
        let mut missing = hourly.clone();
        missing.id = "missing".into();
        assert!(!schedules.advance(&missing, t1, t2, t0));
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
        schedules.upsert(&spec("0 0 * * * *"), t0, t1, TIMING);
        schedules.declare(&["nightly", "unknown"], &[], t0);
        assert_eq!(schedules.list()[0].declared_until, t1);
        let t2 = t1 + TimeDelta::minutes(1);
        schedules.declare(&["nightly"], &[], t2);
        assert_eq!(schedules.list()[0].declared_until, t2);
        assert_eq!(schedules.list().len(), 1, "an unknown id is not stored");
    }

    fn runtime(label: &str) -> ScheduleSpec {
        let mut spec = spec("* * * * * *");
        spec.origin = ScheduleOrigin::Runtime;
        spec.job.args = format!(r#"{{"label": "{label}", "n": 1}}"#);
        spec
    }

    #[test]
    fn a_runtime_upsert_restarts_on_any_change_and_keeps_the_tick_otherwise() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        assert_eq!(schedules.upsert(&runtime("a"), t0, t0, ANY).next_run_at, t0);
        // the same arguments, spelt differently: unchanged
        let mut respelt = runtime("a");
        respelt.job.args = r#"{"n":1,"label":"a"}"#.into();
        assert_eq!(schedules.upsert(&respelt, t1, t0, ANY).next_run_at, t0);
        assert_eq!(schedules.upsert(&runtime("b"), t1, t0, ANY).next_run_at, t1);
        let mut prioritized = runtime("b");
        prioritized.job.priority = -1;
        assert_eq!(schedules.upsert(&prioritized, t0, t0, ANY).next_run_at, t0);
    }

    #[test]
    fn a_declaration_wins_its_id() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::hours(1);
        let mut schedules = Schedules::default();
        schedules.upsert(&spec("0 0 2 * * *"), t0, t0, TIMING);
        let refused = schedules.upsert(&runtime("a"), t1, t1, ANY);
        assert_eq!(refused.spec, spec("0 0 2 * * *"), "unchanged");
        assert_eq!(refused.next_run_at, t0);
        // and takes over a run-time schedule's id
        assert!(schedules.remove("nightly"));
        schedules.upsert(&runtime("a"), t0, t0, ANY);
        let taken = schedules.upsert(&spec("0 0 2 * * *"), t1, t1, TIMING);
        assert_eq!(taken.spec.origin, ScheduleOrigin::Declared);
    }

    #[test]
    fn a_runtime_schedule_is_vouched_for_by_its_kind() {
        let t0 = Utc::now();
        let t1 = t0 + TimeDelta::minutes(1);
        let mut schedules = Schedules::default();
        // its own declaration counts for nothing
        let stored = schedules.upsert(&runtime("a"), t0, t1, ANY);
        assert_eq!(stored.declared_until, EARLIEST);
        schedules.declare(&[], &["report"], t1);
        assert_eq!(schedules.list()[0].declared_until, t1);
        schedules.declare(&[], &["other"], t1 + TimeDelta::minutes(1));
        assert_eq!(schedules.list()[0].declared_until, t1);
    }
}
