//! What `#[job]` and `#[recurring]` generate, observed without a backend:
//! the builder's row, the registered definitions, and the runner.

use std::time::Duration;

use jobs_core::__private::{self as registry, Invocation, JobDefinition, RecurringDefinition};
use jobs_core::{JobContext, JobError, JobErrorKind, State, job, recurring};

#[derive(Clone)]
struct App {
    greeting: &'static str,
}

/// Sends the welcome mail.
#[job(retries = 5, backoff = "linear", backoff_base = "2s", backoff_max = "10m", queue = "critical", priority = -5, timeout = "30s")]
async fn send_welcome_email(
    app: State<App>,
    user_id: i64,
    ctx: JobContext,
    template: String,
) -> Result<(), JobError> {
    let _ = (app.greeting, ctx.id());
    if template.is_empty() {
        return Err(JobError::permanent(format!("no template for {user_id}")));
    }
    Ok(())
}

#[job(delays = [60, 120], unique = true, name = "reports.v2")]
async fn build_report(day: u32) -> anyhow::Result<()> {
    anyhow::ensure!(day < 32, "no day {day}");
    Ok(())
}

#[recurring(
    cron = "0 30 2 * * MON-FRI",
    id = "nightly-report",
    tz = "Europe/Berlin",
    misfire = "skip",
    queue = "reports"
)]
async fn nightly_report(app: State<App>) {
    let _ = app.greeting;
}

#[job]
async fn check_attempt(ctx: JobContext, expected: u32) -> Result<(), JobError> {
    if ctx.attempt() == expected {
        Ok(())
    } else {
        Err(JobError::permanent(format!("attempt {}", ctx.attempt())))
    }
}

#[job]
async fn tick() {}

fn definition(name: &str) -> &'static JobDefinition {
    registry::jobs()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} is registered"))
}

fn schedule(id: &str) -> &'static RecurringDefinition {
    registry::schedules()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("{id} is registered"))
}

#[test]
fn with_builds_the_row_the_attribute_describes() {
    let job = send_welcome_email::with(42, "welcome".into())
        .into_new_job(1 << 20)
        .expect("a valid job");
    assert_eq!(job.kind, "send_welcome_email");
    assert_eq!(job.queue, "critical");
    assert_eq!(job.priority, -5);
    assert_eq!(job.max_attempts, 6);
    assert_eq!(job.unique_key, None);
    let args: serde_json::Value = serde_json::from_str(&job.args).expect("JSON");
    assert_eq!(
        args,
        serde_json::json!({"user_id": 42, "template": "welcome"})
    );
    assert_eq!(job.args, r#"{"user_id":42,"template":"welcome"}"#);
}

#[test]
fn builder_options_override_the_attribute() {
    let job = send_welcome_email::with(7, "reminder".into())
        .queue("mail")
        .priority(3)
        .retries(0)
        .into_new_job(1 << 20)
        .expect("a valid job");
    assert_eq!(
        (job.queue.as_ref(), job.priority, job.max_attempts),
        ("mail", 3, 1)
    );
}

#[test]
fn name_and_unique_keys() {
    assert_eq!(build_report::NAME, "reports.v2");
    let job = build_report::with(3).into_new_job(1 << 20).expect("valid");
    assert_eq!(job.kind, "reports.v2");
    assert_eq!(job.queue, "default");
    assert_eq!(job.max_attempts, 4);
    // unique jobs are keyed by their arguments
    assert_eq!(job.unique_key.as_deref(), Some(r#"{"day":3}"#));
}

#[test]
fn definitions_are_registered_with_their_options() {
    let welcome = definition(send_welcome_email::NAME);
    assert!(std::ptr::eq(welcome, send_welcome_email::definition()));
    assert_eq!(welcome.queue, "critical");
    assert_eq!(welcome.priority, -5);
    assert_eq!(welcome.timeout, Some(Duration::from_secs(30)));
    assert!(!welcome.unique);
    assert!(
        welcome
            .location
            .ends_with("macros_roundtrip::send_welcome_email"),
        "{}",
        welcome.location
    );
    assert_eq!(welcome.retry.retries(), 5);
    assert_eq!(welcome.retry.nominal_delay(3), Duration::from_secs(6));
    assert_eq!(welcome.retry.nominal_delay(1000), Duration::from_secs(600));
    let states: Vec<_> = welcome.states.iter().map(|s| (s.type_name)()).collect();
    assert_eq!(states, [std::any::type_name::<App>()]);

    let report = definition("reports.v2");
    assert!(report.unique);
    assert_eq!(report.retry.nominal_delay(1), Duration::from_secs(60));
    assert_eq!(report.retry.nominal_delay(5), Duration::from_secs(120));
    assert!(report.states.is_empty());
}

#[test]
fn recurring_schedules_are_registered() {
    assert_eq!(nightly_report::ID, "nightly-report");
    assert_eq!(nightly_report::NAME, "nightly_report");
    let nightly = schedule(nightly_report::ID);
    assert!(std::ptr::eq(
        nightly,
        nightly_report::recurring_definition()
    ));
    assert_eq!(nightly.cron, "0 30 2 * * MON-FRI");
    assert_eq!(nightly.tz, "Europe/Berlin");
    assert_eq!(nightly.misfire, jobs_core::cron::Misfire::Skip);
    assert!(std::ptr::eq(nightly.job, definition("nightly_report")));
    assert_eq!(nightly.job.queue, "reports");
    assert_eq!(nightly.job.retry.retries(), 3);
    jobs_core::cron::CronSchedule::parse(nightly.cron, nightly.tz).expect("runtime parser agrees");
    let row = nightly_report::with().into_new_job(1 << 20).expect("valid");
    assert_eq!(row.args, "{}");
}

#[tokio::test]
async fn the_function_stays_callable_as_written() {
    let app = State::new(App { greeting: "hi" });
    nightly_report(app).await;
    build_report(1).await.expect("day 1 is fine");
    assert!(build_report(40).await.is_err());
}

/// A run outside any worker: no states, attempt 2 of 4.
fn invocation(args: &str) -> Invocation {
    Invocation {
        args: args.into(),
        states: Default::default(),
        context: JobContext::detached("1".parse().expect("an id"), 2, 4),
    }
}

#[tokio::test]
async fn the_runner_decodes_calls_and_converts() {
    let run = definition("reports.v2").run;
    run(invocation(r#"{"day":3}"#)).await.expect("day 3 runs");

    let failed = run(invocation(r#"{"day":40}"#)).await.unwrap_err();
    assert_eq!(failed.kind(), JobErrorKind::Failed);
    assert_eq!(failed.message(), "no day 40");

    // stored arguments that no longer decode are permanent
    let stale = run(invocation(r#"{"week":3}"#)).await.unwrap_err();
    assert_eq!(stale.kind(), JobErrorKind::Permanent);
    assert!(
        stale.message().contains("reports.v2"),
        "{}",
        stale.message()
    );
    assert!(
        stale.message().contains("missing field `day`"),
        "{}",
        stale.message()
    );
}

#[tokio::test]
async fn the_runner_injects_the_context_and_keeps_job_error_kinds() {
    let run = check_attempt::definition().run;
    run(invocation(r#"{"expected":2}"#))
        .await
        .expect("attempt 2");
    let wrong = run(invocation(r#"{"expected":1}"#)).await.unwrap_err();
    assert_eq!(wrong.kind(), JobErrorKind::Permanent);
    assert_eq!(wrong.message(), "attempt 2");
}

#[tokio::test]
async fn a_missing_state_fails_the_attempt_naming_the_job() {
    let run = send_welcome_email::definition().run;
    let error = run(invocation(r#"{"user_id":1,"template":"x"}"#))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), JobErrorKind::Failed);
    assert!(
        error.message().contains("send_welcome_email"),
        "{}",
        error.message()
    );
    assert!(error.message().contains("State<"), "{}", error.message());
}

#[tokio::test]
async fn a_job_without_arguments_ignores_what_is_stored() {
    let run = tick::definition().run;
    for stored in ["{}", "null", r#"{"old":1}"#] {
        run(invocation(stored)).await.expect("runs");
    }
}
