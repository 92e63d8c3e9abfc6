#![deny(warnings)]

use std::time::Duration;

use jobs_core::job;

#[job(
    retries = 5,
    backoff = "linear",
    backoff_base = "500ms",
    backoff_max = "1h30m",
    queue = "critical",
    priority = -5,
    timeout = "2m",
    unique = false,
    name = "mail.welcome"
)]
async fn send_welcome_email(user_id: i64, template: String) {
    let _ = (user_id, template);
}

#[job(retries = 0, delays = [60, 120, 300], queue = "reports_v2-eu", priority = 32767, unique = true)]
async fn build_report(day: u32) {
    let _ = day;
}

#[job(backoff = "none", timeout = "1d")]
async fn ping() {}

#[job(backoff = "fixed", backoff_base = "2s")]
async fn poll() {}

fn main() {
    assert_eq!(send_welcome_email::NAME, "mail.welcome");
    let welcome = send_welcome_email::definition();
    assert_eq!(welcome.queue, "critical");
    assert_eq!(welcome.priority, -5);
    assert_eq!(welcome.timeout, Some(Duration::from_secs(120)));
    assert_eq!(welcome.retry.nominal_delay(2), Duration::from_secs(1));
    assert_eq!(welcome.retry.nominal_delay(100_000), Duration::from_secs(5_400));

    let report = build_report::definition();
    assert_eq!(build_report::NAME, "build_report");
    assert_eq!((report.queue, report.priority, report.unique), ("reports_v2-eu", 32767, true));
    assert_eq!(report.retry.max_attempts(), 1);
    assert_eq!(report.retry.nominal_delay(9), Duration::from_secs(300));

    assert_eq!(ping::definition().retry.nominal_delay(3), Duration::ZERO);
    assert_eq!(ping::definition().timeout, Some(Duration::from_secs(86_400)));
    assert_eq!(poll::definition().retry.nominal_delay(3), Duration::from_secs(2));
}
