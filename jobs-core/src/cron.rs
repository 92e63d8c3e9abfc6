//! Cron schedules in a time zone, and what to do with missed ticks.
//!
//! Expressions have six fields with seconds (`sec min hour day-of-month
//! month day-of-week`) and an optional seventh (year). Daylight saving time
//! is handled the way users expect: a wall-clock time that does not exist on
//! a spring-forward day fires once, at the first instant after the gap; a
//! time that happens twice on a fall-back day fires once; and sub-hourly
//! schedules (`0 */15 * * * *`) run through both copies of a repeated hour.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// What happens to ticks missed while no worker ran. Serialized as its
/// attribute spelling (`"once"`, `"skip"`, `"all"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Misfire {
    /// One catch-up run for all missed ticks, then the normal schedule.
    #[default]
    Once,
    /// Drop missed ticks; only a tick that is due now runs.
    Skip,
    /// Run every missed tick (at most [`MAX_CATCH_UP`]).
    All,
}

impl Misfire {
    /// The attribute spelling (`"once"`, `"skip"`, `"all"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Misfire::Once => "once",
            Misfire::Skip => "skip",
            Misfire::All => "all",
        }
    }
}

impl FromStr for Misfire {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "once" => Ok(Misfire::Once),
            "skip" => Ok(Misfire::Skip),
            "all" => Ok(Misfire::All),
            other => Err(format!(
                "unknown misfire policy `{other}`: expected \"once\", \"skip\" or \"all\""
            )),
        }
    }
}

/// The most missed ticks [`Misfire::All`] runs.
pub const MAX_CATCH_UP: usize = 1_000;

/// A tick counts as on time (not missed) if it is at most this old when the
/// scheduler sees it.
pub const DEFAULT_MISFIRE_THRESHOLD: chrono::Duration = chrono::Duration::seconds(60);

/// Why an expression or zone was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CronError {
    /// A classic five-field expression (no seconds).
    #[error(
        "cron expression `{expr}` has five fields; six are needed, starting with seconds: write `{suggestion}`"
    )]
    FiveFields {
        /// The expression.
        expr: String,
        /// The six-field form.
        suggestion: String,
    },
    /// Not six or seven fields.
    #[error(
        "cron expression `{expr}` has {fields} fields; write six (`sec min hour day-of-month month day-of-week`) or seven (with a year)"
    )]
    FieldCount {
        /// The expression.
        expr: String,
        /// How many fields it has.
        fields: usize,
    },
    /// The parser rejected a field.
    #[error("invalid cron expression `{expr}`: {reason}")]
    Invalid {
        /// The expression.
        expr: String,
        /// The parser's reason.
        reason: String,
    },
    /// The expression matches no time from now on: no date at all
    /// (`0 0 0 30 2 *`), or only dates past (a year field).
    #[error(
        "cron expression `{expr}` never fires: no time from now on matches it; check the day-of-month, month and year fields"
    )]
    NeverFires {
        /// The expression.
        expr: String,
    },
    /// Not an IANA zone name.
    #[error("unknown time zone `{tz}`: use an IANA name such as \"UTC\" or \"Europe/Berlin\"")]
    UnknownZone {
        /// The name.
        tz: String,
    },
}

/// A parsed cron expression in a time zone.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jobs_core::cron::CronSchedule;
///
/// let nightly = CronSchedule::parse("0 30 2 * * *", "Europe/Berlin").unwrap();
/// // 2027-03-28: 02:30 does not exist in Berlin; it fires at 03:00 CEST (01:00 UTC)
/// let before = Utc.with_ymd_and_hms(2027, 3, 27, 12, 0, 0).unwrap();
/// assert_eq!(nightly.next_after(before), Some(Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap()));
///
/// assert!(CronSchedule::parse("0 2 * * *", "UTC").unwrap_err().to_string().contains("0 0 2 * * *"));
/// ```
#[derive(Clone)]
pub struct CronSchedule {
    expr: String,
    cron: Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Parses `expr` read in the IANA zone `tz`. An expression with no tick
    /// after the current time is rejected as [`CronError::NeverFires`].
    pub fn parse(expr: &str, tz: &str) -> Result<Self, CronError> {
        Self::parse_at(expr, tz, Utc::now())
    }

    /// [`parse`](Self::parse), with `now` as the current time.
    pub(crate) fn parse_at(expr: &str, tz: &str, now: DateTime<Utc>) -> Result<Self, CronError> {
        let zone: Tz = tz
            .parse()
            .map_err(|_| CronError::UnknownZone { tz: tz.to_owned() })?;
        let fields = expr.split_whitespace().count();
        match fields {
            6 | 7 => {}
            5 => {
                return Err(CronError::FiveFields {
                    expr: expr.to_owned(),
                    suggestion: format!("0 {}", expr.trim()),
                });
            }
            _ => {
                return Err(CronError::FieldCount {
                    expr: expr.to_owned(),
                    fields,
                });
            }
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Optional)
            .build()
            .parse(expr)
            .map_err(|error| CronError::Invalid {
                expr: expr.to_owned(),
                reason: error.to_string(),
            })?;
        let schedule = Self {
            expr: expr.to_owned(),
            cron,
            tz: zone,
        };
        if schedule.next_after(now).is_none() {
            return Err(CronError::NeverFires {
                expr: expr.to_owned(),
            });
        }
        Ok(schedule)
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The last tick before `before` (or at it, if `inclusive`).
    pub fn previous_before(&self, before: DateTime<Utc>, inclusive: bool) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&before.with_timezone(&self.tz), inclusive)
            .ok()
            .map(|tick| tick.with_timezone(&Utc))
    }

    /// The first tick strictly after `after`, or `None` if there is none
    /// (a year field that has passed).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|tick| tick.with_timezone(&Utc))
    }

    /// What to enqueue when the scheduler looks at the schedule at `now`,
    /// given the stored next tick. Ticks older than `threshold` count as
    /// missed and follow `misfire`.
    pub fn plan(
        &self,
        next_run_at: DateTime<Utc>,
        now: DateTime<Utc>,
        misfire: Misfire,
        threshold: chrono::Duration,
    ) -> TickPlan {
        if next_run_at > now {
            return TickPlan {
                fire: Vec::new(),
                next_run_at: Some(next_run_at),
            };
        }
        // Walk back from now, so a long outage of a frequent schedule costs
        // at most MAX_CATCH_UP steps. The stored tick itself is always due.
        let mut due = Vec::new();
        let mut cursor = now;
        let mut inclusive = true;
        while due.len() < MAX_CATCH_UP {
            match self.previous_before(cursor, inclusive) {
                Some(tick) if tick > next_run_at => {
                    due.push(tick);
                    cursor = tick;
                    inclusive = false;
                }
                _ => {
                    due.push(next_run_at);
                    break;
                }
            }
        }
        due.reverse();
        let newest = due.last().copied();
        let fire = match misfire {
            Misfire::All => due,
            Misfire::Once => newest.into_iter().collect(),
            Misfire::Skip => newest
                .filter(|at| now - *at <= threshold)
                .into_iter()
                .collect(),
        };
        TickPlan {
            fire,
            next_run_at: self.next_after(now),
        }
    }
}

/// The ticks to enqueue now and the next tick to wait for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TickPlan {
    /// Ticks to enqueue a job for, oldest first.
    pub fire: Vec<DateTime<Utc>>,
    /// The next tick after now (`None`: the schedule has ended).
    pub next_run_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CronSchedule")
            .field("expr", &self.expr)
            .field("tz", &self.tz.name())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn ticks(
        schedule: &CronSchedule,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = from;
        while let Some(next) = schedule.next_after(at).filter(|next| *next <= until) {
            out.push(next);
            at = next;
        }
        out
    }

    #[test]
    fn rejects_five_fields_with_the_six_field_form() {
        let error = CronSchedule::parse("0 2 * * *", "UTC").unwrap_err();
        assert_eq!(
            error,
            CronError::FiveFields {
                expr: "0 2 * * *".into(),
                suggestion: "0 0 2 * * *".into()
            }
        );
        assert!(error.to_string().contains("write `0 0 2 * * *`"));
    }

    #[test]
    fn rejects_other_field_counts_bad_fields_zones_and_never_firing() {
        assert!(matches!(
            CronSchedule::parse("* * * *", "UTC"),
            Err(CronError::FieldCount { fields: 4, .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 0 25 * * *", "UTC"),
            Err(CronError::Invalid { .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 0 0 30 2 *", "UTC"),
            Err(CronError::NeverFires { .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 0 2 * * *", "Mars/Olympus"),
            Err(CronError::UnknownZone { .. })
        ));
    }

    #[test]
    fn a_year_whose_ticks_are_past_never_fires() {
        // June 2026: after 2026-01-01, the fixed date this check used to
        // probe from, and before any time these tests run
        let error = CronSchedule::parse("0 0 12 1 6 * 2026", "UTC").unwrap_err();
        assert_eq!(
            error,
            CronError::NeverFires {
                expr: "0 0 12 1 6 * 2026".into()
            }
        );
        assert!(error.to_string().contains("never fires"), "{error}");
        // the same expression, parsed before its tick, is fine
        let before = utc(2026, 5, 1, 0, 0, 0);
        let once = CronSchedule::parse_at("0 0 12 1 6 * 2026", "UTC", before).unwrap();
        assert_eq!(once.next_after(before), Some(utc(2026, 6, 1, 12, 0, 0)));
    }

    #[test]
    fn accepts_names_question_mark_and_a_year() {
        let weekdays = CronSchedule::parse("0 0 9 ? JAN-MAR MON-FRI", "UTC").unwrap();
        // 2027-01-01 is a Friday; the next weekday 09:00 after it is Monday the 4th
        assert_eq!(
            weekdays.next_after(utc(2027, 1, 1, 10, 0, 0)),
            Some(utc(2027, 1, 4, 9, 0, 0))
        );
        let once = CronSchedule::parse("0 0 12 1 6 * 2030", "UTC").unwrap();
        assert_eq!(
            once.next_after(utc(2026, 1, 1, 0, 0, 0)),
            Some(utc(2030, 6, 1, 12, 0, 0))
        );
        assert_eq!(
            once.next_after(utc(2030, 6, 1, 12, 0, 0)),
            None,
            "the year has passed"
        );
    }

    #[test]
    fn spring_forward_fires_once_after_the_gap() {
        // Berlin 2027-03-28: 02:00 CET -> 03:00 CEST
        let nightly = CronSchedule::parse("0 30 2 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            ticks(
                &nightly,
                utc(2027, 3, 26, 12, 0, 0),
                utc(2027, 3, 29, 12, 0, 0)
            ),
            [
                utc(2027, 3, 27, 1, 30, 0),
                utc(2027, 3, 28, 1, 0, 0),
                utc(2027, 3, 29, 0, 30, 0)
            ]
        );
    }

    #[test]
    fn fall_back_fires_once() {
        // Berlin 2027-10-31: 03:00 CEST -> 02:00 CET; 02:30 happens twice
        let nightly = CronSchedule::parse("0 30 2 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            ticks(
                &nightly,
                utc(2027, 10, 30, 12, 0, 0),
                utc(2027, 11, 1, 12, 0, 0)
            ),
            [utc(2027, 10, 31, 0, 30, 0), utc(2027, 11, 1, 1, 30, 0)]
        );
    }

    #[test]
    fn quarter_hours_run_through_both_copies_of_the_repeated_hour() {
        let quarters = CronSchedule::parse("0 */15 * * * *", "Europe/Berlin").unwrap();
        let got = ticks(
            &quarters,
            utc(2027, 10, 30, 23, 59, 0),
            utc(2027, 10, 31, 2, 0, 0),
        );
        let expected: Vec<_> = (0..9)
            .map(|n| utc(2027, 10, 31, 0, 0, 0) + chrono::Duration::minutes(15 * n))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn plan_follows_the_misfire_policy() {
        let minutely = CronSchedule::parse("0 * * * * *", "UTC").unwrap();
        let stored = utc(2027, 1, 1, 0, 1, 0);
        let now = utc(2027, 1, 1, 0, 11, 45);
        let threshold = chrono::Duration::seconds(10);
        let next = Some(utc(2027, 1, 1, 0, 12, 0));

        let all = minutely.plan(stored, now, Misfire::All, threshold);
        let expected: Vec<_> = (1..=11).map(|m| utc(2027, 1, 1, 0, m, 0)).collect();
        assert_eq!(
            all,
            TickPlan {
                fire: expected,
                next_run_at: next
            }
        );

        let once = minutely.plan(stored, now, Misfire::Once, threshold);
        assert_eq!(
            once,
            TickPlan {
                fire: vec![utc(2027, 1, 1, 0, 11, 0)],
                next_run_at: next
            }
        );

        let skip = minutely.plan(stored, now, Misfire::Skip, threshold);
        assert_eq!(
            skip,
            TickPlan {
                fire: vec![],
                next_run_at: next
            }
        );

        // on time: every policy fires the tick
        let on_time = utc(2027, 1, 1, 0, 1, 2);
        for policy in [Misfire::All, Misfire::Once, Misfire::Skip] {
            let plan = minutely.plan(stored, on_time, policy, threshold);
            assert_eq!(plan.fire, [stored], "{policy:?}");
        }
        // not due yet
        let early = minutely.plan(stored, utc(2027, 1, 1, 0, 0, 59), Misfire::All, threshold);
        assert_eq!(
            early,
            TickPlan {
                fire: vec![],
                next_run_at: Some(stored)
            }
        );
    }

    #[test]
    fn a_long_outage_catches_up_at_most_the_limit() {
        let every_second = CronSchedule::parse("* * * * * *", "UTC").unwrap();
        let stored = utc(2027, 1, 1, 0, 0, 0);
        let now = utc(2027, 1, 2, 0, 0, 0); // 86 400 missed ticks
        let plan = every_second.plan(stored, now, Misfire::All, chrono::Duration::seconds(60));
        assert_eq!(plan.fire.len(), MAX_CATCH_UP);
        assert_eq!(plan.fire.last(), Some(&now));
        assert!(plan.fire.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn misfire_names_parse() {
        for policy in [Misfire::Once, Misfire::Skip, Misfire::All] {
            assert_eq!(policy.as_str().parse::<Misfire>(), Ok(policy));
        }
        assert!("sometimes".parse::<Misfire>().is_err());
    }
}
