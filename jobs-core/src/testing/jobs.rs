//! The jobs the conformance suite runs. Each records what it saw in the
//! worker's [`Probe`] state.

#![allow(missing_docs)]

use std::time::Duration;

use crate::testing::Probe;
use crate::{JobContext, JobError, State, job, recurring};

#[job(name = "conformance_record")]
pub async fn record(probe: State<Probe>, ctx: JobContext, label: String) {
    probe.record(&ctx, label);
}

#[job(
    name = "conformance_always_fails",
    retries = 2,
    backoff = "fixed",
    backoff_base = "10ms"
)]
pub async fn always_fails(probe: State<Probe>, ctx: JobContext) -> Result<(), String> {
    probe.record(&ctx, "");
    Err(format!("boom on attempt {}", ctx.attempt()))
}

#[job(
    name = "conformance_exponential",
    retries = 3,
    backoff = "exponential",
    backoff_base = "4s"
)]
pub async fn fails_with_exponential_backoff(
    probe: State<Probe>,
    ctx: JobContext,
) -> Result<(), String> {
    probe.record(&ctx, "");
    Err("try later".to_owned())
}

#[job(name = "conformance_delays", retries = 3, delays = [5, 9])]
pub async fn fails_with_explicit_delays(
    probe: State<Probe>,
    ctx: JobContext,
) -> Result<(), String> {
    probe.record(&ctx, "");
    Err("try later".to_owned())
}

#[job(name = "conformance_permanent", retries = 5)]
pub async fn fails_permanently(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    probe.record(&ctx, "");
    Err(JobError::permanent("invalid input: a retry will not help"))
}

#[job(name = "conformance_snoozes_once", retries = 0)]
pub async fn snoozes_once(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    if probe.record(&ctx, "") == 1 {
        return Err(JobError::snooze(Duration::from_millis(100)));
    }
    Ok(())
}

#[job(name = "conformance_cancels_itself")]
pub async fn cancels_itself(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    probe.record(&ctx, "");
    Err(JobError::cancel("no longer needed"))
}

#[job(name = "conformance_waits_for_cancel", retries = 0)]
pub async fn waits_for_cancel(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    probe.record(&ctx, "started");
    ctx.cancelled().await;
    probe.record(&ctx, "saw cancellation");
    Err(JobError::failed("stopped on request"))
}

#[job(name = "conformance_reports_progress", retries = 0)]
pub async fn reports_progress(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    ctx.set_progress(0.5);
    probe.record(&ctx, "half way");
    ctx.cancelled().await;
    Err(JobError::failed("stopped on request"))
}

#[job(name = "conformance_ignores_cancel", retries = 0)]
pub async fn ignores_cancel(probe: State<Probe>, ctx: JobContext) {
    probe.record(&ctx, "started");
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[job(name = "conformance_times_out", retries = 0, timeout = "100ms")]
pub async fn times_out(probe: State<Probe>, ctx: JobContext) {
    probe.record(&ctx, "");
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[job(name = "conformance_panics", retries = 1, backoff = "none")]
pub async fn panics(probe: State<Probe>, ctx: JobContext) {
    probe.record(&ctx, "");
    panic!("kaboom on attempt {}", ctx.attempt());
}

#[job(name = "conformance_unique", unique = true)]
pub async fn unique_report(probe: State<Probe>, ctx: JobContext, account_id: i64) {
    probe.record(&ctx, account_id.to_string());
}

#[job(name = "conformance_slow")]
pub async fn slow(probe: State<Probe>, ctx: JobContext, millis: u64) {
    let _running = probe.enter();
    probe.record(&ctx, millis.to_string());
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[job(name = "conformance_typed", retries = 0)]
pub async fn typed(probe: State<Probe>, ctx: JobContext, count: u32, label: String) {
    probe.record(&ctx, format!("{label}:{count}"));
}

#[job(name = "conformance_big_payload")]
pub async fn big_payload(blob: String) {
    let _ = blob;
}

#[recurring(cron = "0 0 3 * * *", id = "conformance-trigger")]
pub async fn triggered(probe: State<Probe>, ctx: JobContext) {
    probe.record(&ctx, "");
}

#[recurring(cron = "0 * * * * *", id = "conformance-every-minute", misfire = "all")]
pub async fn every_minute() {}

#[recurring(
    cron = "0 30 2 * * *",
    id = "conformance-berlin-0230",
    tz = "Europe/Berlin",
    misfire = "all"
)]
pub async fn berlin_half_past_two() {}

#[recurring(
    cron = "0 */15 * * * *",
    id = "conformance-berlin-quarters",
    tz = "Europe/Berlin",
    misfire = "all"
)]
pub async fn berlin_quarter_hours() {}

#[recurring(cron = "0 * * * * *", id = "conformance-misfire-once")]
pub async fn misfire_once() {}

#[recurring(
    cron = "0 * * * * *",
    id = "conformance-misfire-skip",
    misfire = "skip"
)]
pub async fn misfire_skip() {}

#[recurring(cron = "0 * * * * *", id = "conformance-misfire-all", misfire = "all")]
pub async fn misfire_all() {}

#[job(name = "conformance_snoozes_forever", retries = 0)]
pub async fn snoozes_forever(probe: State<Probe>, ctx: JobContext) -> Result<(), JobError> {
    probe.record(&ctx, "");
    Err(JobError::snooze(Duration::MAX))
}

#[job(name = "conformance_huge_delay", retries = 1, delays = [99999999999999])]
pub async fn fails_with_a_huge_delay(probe: State<Probe>, ctx: JobContext) -> Result<(), String> {
    probe.record(&ctx, "");
    Err("try again in three million years".to_owned())
}

/// Whether [`upgrade_versioned`] has been "fixed": until then it refuses
/// arguments whose `user` is negative (only the failed-upgrade case stores
/// such a job).
pub static UPGRADE_FIXED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Version 3 of a job whose version 1 had only `user`: version 2 added
/// `locale` (filled in by [`upgrade_versioned`]), version 3 the optional
/// `note`, which older jobs lack and read as `None`.
#[job(
    name = "conformance_versioned",
    version = 3,
    upgrade = upgrade_versioned,
    retries = 0
)]
pub async fn versioned(
    probe: State<Probe>,
    ctx: JobContext,
    user: i64,
    locale: String,
    note: Option<String>,
) {
    probe.record(&ctx, format!("{user}:{locale}:{note:?}"));
}

/// Brings `conformance_versioned` arguments from `from` to version 3.
pub fn upgrade_versioned(
    from: u32,
    mut args: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let fixed = UPGRADE_FIXED.load(std::sync::atomic::Ordering::SeqCst);
    if !fixed && args["user"].as_i64().is_some_and(|user| user < 0) {
        return Err(format!(
            "no locale is known for a negative user (from version {from})"
        ));
    }
    if from < 2 {
        args["locale"] = format!("upgraded-from-{from}").into();
    }
    Ok(args)
}

/// At most one run at a time across every worker (SPEC §11).
#[job(name = "conformance_one_at_a_time", concurrency = 1)]
pub async fn one_at_a_time(probe: State<Probe>, ctx: JobContext, millis: u64) {
    let _running = probe.enter_keyed("one_at_a_time");
    probe.record(&ctx, millis.to_string());
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// At most one run at a time per `account`.
#[job(
    name = "conformance_one_per_account",
    concurrency = 1,
    concurrency_key = "account"
)]
pub async fn one_per_account(probe: State<Probe>, ctx: JobContext, account: String, millis: u64) {
    let _running = probe.enter_keyed(&account);
    probe.record(&ctx, account.clone());
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// At most five starts in any second.
#[job(name = "conformance_rate_limited", rate_limit = "5/1s")]
pub async fn rate_limited(probe: State<Probe>, ctx: JobContext) {
    probe.record(&ctx, "");
}

/// A recurring job that never overlaps itself.
#[recurring(cron = "0 0 4 * * *", id = "conformance-no-overlap", concurrency = 1)]
pub async fn no_overlap(probe: State<Probe>, ctx: JobContext) {
    let _running = probe.enter_keyed("no_overlap");
    probe.record(&ctx, "");
    tokio::time::sleep(Duration::from_millis(150)).await;
}
