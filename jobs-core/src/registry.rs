//! The jobs and schedules linked into a binary, registered by `#[job]` and
//! `#[recurring]` without a hand-kept list.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::JobError;
use crate::backend::{ConcurrencyLimit, FlowLimits, RateLimit};
use crate::context::JobContext;
use crate::cron::Misfire;
use crate::retry::RetryPolicy;
use crate::worker::shared_states::SharedStates;

/// The boxed future a job's runner returns.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'static>>;

/// Everything one run of a job gets: its stored arguments, the worker's
/// states and the run's context.
pub struct Invocation {
    /// The arguments, as stored (JSON text).
    pub args: Arc<str>,
    /// The worker's shared states.
    pub states: Arc<SharedStates>,
    /// This run's context.
    pub context: JobContext,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("args", &self.args)
            .field("context", &self.context)
            .finish()
    }
}

/// A shared state a job needs (`State<T>` parameter).
#[derive(Clone, Copy)]
pub struct StateRequirement {
    /// `std::any::type_name::<T>` (a function because `type_name` is not
    /// const).
    pub type_name: fn() -> &'static str,
    /// `TypeId::of::<T>` (a function because `TypeId::of` is not const).
    pub type_id: fn() -> TypeId,
}

impl fmt::Debug for StateRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.type_name)())
    }
}

/// A kind's `upgrade` function as the generated code wraps it: the stored
/// version and arguments in, the arguments of the current version out, or
/// the user's error as text.
pub type UpgradeFn = fn(u32, serde_json::Value) -> Result<serde_json::Value, String>;

/// A job kind, as `#[job]` declares it.
#[derive(Debug)]
pub struct JobDefinition {
    /// The stable kind name stored with each job.
    pub name: &'static str,
    /// Where the function is defined (`module::path::fn_name`), for messages.
    pub location: &'static str,
    /// The default queue.
    pub queue: &'static str,
    /// The default priority (lower runs first).
    pub priority: i16,
    /// Attempts and retry delays.
    pub retry: RetryPolicy,
    /// The run is cancelled and counts as a failed attempt after this long.
    pub timeout: Option<Duration>,
    /// Enqueueing is a no-op while an equal unfinished job exists.
    pub unique: bool,
    /// The `State<T>` parameters.
    pub states: &'static [StateRequirement],
    /// The kind's version (`#[job(version = N)]`, 1 by default), stored with
    /// each job it enqueues.
    pub version: u32,
    /// Turns the arguments of an older stored version into this version's
    /// (`#[job(upgrade = path)]`).
    pub upgrade: Option<UpgradeFn>,
    /// At most this many attempts run at once across all workers
    /// (`#[job(concurrency = N, concurrency_key = "arg")]`).
    pub concurrency: Option<ConcurrencyLimit>,
    /// At most this many attempts start in any window across all workers
    /// (`#[job(rate_limit = "N/duration")]`).
    pub rate_limit: Option<RateLimit>,
    /// Decodes the arguments and runs the function.
    pub run: fn(Invocation) -> JobFuture,
    /// The key of this kind's `jobs_enqueued_total` counter, made at
    /// compile time ([`enqueued_metric_key`](crate::__private::enqueued_metric_key))
    /// so an enqueue neither allocates nor hashes a label set.
    pub enqueued_metric: &'static metrics::Key,
}

impl JobDefinition {
    /// The kind's flow-control limits, `None` for a kind without any: its
    /// jobs are claimed by the usual fetch.
    pub fn flow_limits(&self) -> Option<FlowLimits> {
        let limits = FlowLimits {
            concurrency: self.concurrency,
            rate: self.rate_limit,
        };
        limits.is_limited().then_some(limits)
    }

    /// The value of the `concurrency_key` argument in `args` (a JSON
    /// object), as canonical JSON text: what the limit is kept per. `None`
    /// without a key; JSON `null` when the argument is missing.
    pub(crate) fn concurrency_key_of(&self, args: &str) -> Option<String> {
        let key = self.concurrency?.key?;
        let value = serde_json::from_str::<serde_json::Value>(args)
            .ok()
            .and_then(|mut args| args.get_mut(key).map(serde_json::Value::take))
            .unwrap_or(serde_json::Value::Null);
        Some(value.to_string())
    }

    /// The arguments a job stored with `version` runs with: as stored, or,
    /// for an older version with an `upgrade` function, what that function
    /// makes of them. `upgrade` is called once, with the stored version, and
    /// brings the arguments all the way to the current version. Its error
    /// (or arguments that are not JSON) is a permanent failure: the job is
    /// `Dead` with the message, and `Client::retry` runs it again after a fix.
    pub(crate) fn args_for(&self, version: u32, args: &Arc<str>) -> Result<Arc<str>, JobError> {
        let upgrade = match self.upgrade {
            Some(upgrade) if version < self.version => upgrade,
            _ => return Ok(Arc::clone(args)),
        };
        let stored: serde_json::Value = serde_json::from_str(args).map_err(|error| {
            JobError::permanent(format!(
                "cannot upgrade the arguments of `{}` from version {version}: they are not JSON: {error}",
                self.name
            ))
        })?;
        let upgraded = upgrade(version, stored).map_err(|error| {
            JobError::permanent(format!(
                "upgrading the arguments of `{}` from version {version} to {} failed: {error}",
                self.name, self.version
            ))
        })?;
        Ok(Arc::from(upgraded.to_string()))
    }
}

/// A recurring schedule, as `#[recurring]` declares it.
#[derive(Debug)]
pub struct RecurringDefinition {
    /// The stable schedule id.
    pub id: &'static str,
    /// The cron expression (six or seven fields).
    pub cron: &'static str,
    /// The IANA time zone the expression is read in.
    pub tz: &'static str,
    /// What to do with ticks missed while no worker ran.
    pub misfire: Misfire,
    /// The job each tick enqueues.
    pub job: &'static JobDefinition,
}

/// An inventory entry for one `#[job]` (and each `#[recurring]`'s job): a
/// function returning the definition, which the generated code keeps in a
/// `static` inside that function.
#[derive(Debug)]
pub struct JobRegistration(pub fn() -> &'static JobDefinition);

/// An inventory entry for one `#[recurring]`.
#[derive(Debug)]
pub struct RecurringRegistration(pub fn() -> &'static RecurringDefinition);

inventory::collect!(JobRegistration);
inventory::collect!(RecurringRegistration);

/// Every job linked into this binary.
pub fn jobs() -> impl Iterator<Item = &'static JobDefinition> {
    inventory::iter::<JobRegistration>
        .into_iter()
        .map(|r| (r.0)())
}

/// Every recurring schedule linked into this binary.
pub fn schedules() -> impl Iterator<Item = &'static RecurringDefinition> {
    inventory::iter::<RecurringRegistration>
        .into_iter()
        .map(|r| (r.0)())
}
