//! Run-time schedules: recurring jobs defined from data while the program
//! runs (one report per tenant), next to the `#[recurring]` ones a binary
//! declares.
//!
//! A run-time schedule is stored like a declared one, with the job each
//! tick enqueues, and the leader ticks it from that stored definition by
//! the same rules (one job a tick, daylight saving time, misfire policy):
//! a worker that does not run the job's kind ticks it too. What differs:
//!
//! - it is vouched for by kind, not by id: it is
//!   [`orphaned`](crate::ScheduleInfo::orphaned) only while no live worker
//!   runs its job kind;
//! - any change of its definition restarts it from now, where a
//!   redeployed `#[recurring]` keeps its next tick unless its cron or zone
//!   changed;
//! - a `#[recurring]` declaration wins an id both use: upserting a
//!   run-time schedule under a declared id is refused, and a worker that
//!   declares an id a run-time schedule holds takes it over, with a
//!   warning in its log.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::backend::ScheduleSpec;
use crate::cron::{CronSchedule, Misfire};
use crate::{Error, JobBuilder};

/// The longest schedule id [`Client::upsert_schedule`](crate::Client::upsert_schedule)
/// accepts, in bytes.
pub const MAX_SCHEDULE_ID_LEN: usize = 255;

/// Who defined a stored schedule. Serialized as its stored spelling
/// (`"declared"`, `"runtime"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleOrigin {
    /// A `#[recurring]` function linked into a binary: its workers declare
    /// it by id.
    #[default]
    Declared,
    /// [`Client::upsert_schedule`](crate::Client::upsert_schedule): workers
    /// that run its job kind vouch for it.
    Runtime,
}

impl ScheduleOrigin {
    /// The stored spelling (`"declared"`, `"runtime"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ScheduleOrigin::Declared => "declared",
            ScheduleOrigin::Runtime => "runtime",
        }
    }
}

impl FromStr for ScheduleOrigin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "declared" => Ok(ScheduleOrigin::Declared),
            "runtime" => Ok(ScheduleOrigin::Runtime),
            other => Err(format!(
                "unknown schedule origin `{other}`: expected \"declared\" or \"runtime\""
            )),
        }
    }
}

impl fmt::Display for ScheduleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recurring schedule defined at run time (Hangfire's
/// `RecurringJob.AddOrUpdate`): an id, a cron expression, a zone, a
/// misfire policy and the job each tick enqueues, with its arguments.
/// Store it with [`Client::upsert_schedule`](crate::Client::upsert_schedule).
///
/// The cron expression and zone get the checks `#[recurring]` makes at
/// compile time (six or seven fields, a five-field expression is refused
/// with its six-field form, one that never fires is refused, the zone must
/// be an IANA name), and the job the checks of its builder (arguments
/// encode, queue name valid); all at upsert, as an
/// [`Error::InvalidSchedule`] that says what is wrong. A job builder's
/// `.delay(..)`, `.at(..)` and `.unique_key(..)` are refused: a schedule's
/// ticks say when its jobs run, and each tick enqueues exactly one job.
/// Its `.queue(..)`, `.priority(..)` and `.retries(..)` apply to every
/// tick's job.
///
/// ```rust,standalone_crate
/// use jobs_core::{job, Client, Misfire, Schedule};
/// use jobs_memory::MemoryBackend;
///
/// #[job]
/// async fn tenant_report(tenant_id: i64) {}
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), jobs_core::Error> {
/// let client = Client::new(MemoryBackend::new());
/// let stored = client
///     .upsert_schedule(
///         Schedule::new("tenant-7-report", "0 0 6 * * *")
///             .tz("Europe/Berlin")
///             .misfire(Misfire::Skip)
///             .job(tenant_report::with(7)),
///     )
///     .await?;
/// assert_eq!(stored.kind, tenant_report::NAME);
///
/// // five fields: refused, with the six-field form in the message
/// let refused = client
///     .upsert_schedule(Schedule::new("tenant-8-report", "0 6 * * *").job(tenant_report::with(8)))
///     .await
///     .unwrap_err();
/// assert!(refused.to_string().contains("0 0 6 * * *"), "{refused}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a schedule does nothing until `client.upsert_schedule(..)`"]
pub struct Schedule {
    id: String,
    cron: String,
    tz: String,
    misfire: Misfire,
    job: Option<JobBuilder>,
}

impl Schedule {
    /// A schedule with this stable id and cron expression (six fields with
    /// seconds, an optional seventh for the year), in UTC, with
    /// [`Misfire::Once`]. Give it its job with [`job`](Self::job).
    pub fn new(id: impl Into<String>, cron: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            cron: cron.into(),
            tz: "UTC".to_owned(),
            misfire: Misfire::default(),
            job: None,
        }
    }

    /// Reads the cron expression in this IANA zone (default `"UTC"`).
    pub fn tz(mut self, tz: impl Into<String>) -> Self {
        self.tz = tz.into();
        self
    }

    /// What happens to ticks missed while no worker ran (default
    /// [`Misfire::Once`]).
    pub fn misfire(mut self, misfire: Misfire) -> Self {
        self.misfire = misfire;
        self
    }

    /// The job each tick enqueues: any `#[job]`'s `with(..)` builder, with
    /// its arguments.
    pub fn job(mut self, job: JobBuilder) -> Self {
        self.job = Some(job);
        self
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Checks everything and returns the definition to store with the
    /// parsed expression, as of `now`.
    pub(crate) fn into_spec(
        self,
        max_payload: usize,
        now: DateTime<Utc>,
    ) -> Result<(ScheduleSpec, CronSchedule), Error> {
        let Self {
            id,
            cron,
            tz,
            misfire,
            job,
        } = self;
        let invalid = |message: String| Error::InvalidSchedule {
            id: id.clone(),
            message,
        };
        check_id(&id).map_err(invalid)?;
        let schedule =
            CronSchedule::parse_at(&cron, &tz, now).map_err(|error| invalid(error.to_string()))?;
        let job = job.ok_or_else(|| {
            invalid("it has no job: give it one with `.job(my_job::with(..))`".to_owned())
        })?;
        let job = job.into_scheduled_job(max_payload).map_err(invalid)?;
        let spec = ScheduleSpec {
            id,
            cron,
            tz,
            misfire,
            job,
            origin: ScheduleOrigin::Runtime,
        };
        Ok((spec, schedule))
    }
}

/// A schedule id is shown in logs and listings and used to update and
/// remove the schedule: some visible text of reasonable length.
fn check_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("the id is empty: give each schedule a stable, non-empty id".to_owned());
    }
    if id.len() > MAX_SCHEDULE_ID_LEN {
        return Err(format!(
            "the id is {} bytes long; at most {MAX_SCHEDULE_ID_LEN} are allowed",
            id.len()
        ));
    }
    if id.chars().any(char::is_control) {
        return Err("the id contains control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_visible_text_of_reasonable_length() {
        assert!(check_id("tenant-7-report").is_ok());
        assert!(check_id("").unwrap_err().contains("empty"));
        assert!(check_id("  ").unwrap_err().contains("empty"));
        assert!(
            check_id(&"x".repeat(256))
                .unwrap_err()
                .contains("256 bytes")
        );
        assert!(check_id("a\nb").unwrap_err().contains("control"));
    }

    #[test]
    fn origins_round_trip() {
        for origin in [ScheduleOrigin::Declared, ScheduleOrigin::Runtime] {
            assert_eq!(origin.as_str().parse::<ScheduleOrigin>(), Ok(origin));
        }
        assert!("mystery".parse::<ScheduleOrigin>().is_err());
    }
}
