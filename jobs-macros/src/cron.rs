//! Compile-time checks of `cron` and `tz`, mirroring the rules that
//! `jobs_core::cron::CronSchedule::parse` applies at run time.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The field layout, for messages.
const LAYOUT: &str = "the fields are `sec(0-59) min(0-59) hour(0-23) day-of-month(1-31) month(1-12 or JAN-DEC) day-of-week(0-6 or SUN-SAT)` and an optional year";

/// Why a cron expression is rejected; the message is the whole error.
///
/// Whether it ever fires is checked in UTC: a zone shifts instants but not
/// which calendar dates exist, and a wall-clock time skipped by daylight
/// saving still fires (after the gap), so the answer is the same in every
/// zone.
pub(crate) fn check_expression(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    match fields {
        6 | 7 => {}
        5 => {
            return Err(format!(
                "cron expression `{expr}` has five fields; six are needed, starting with seconds: write \"0 {}\"",
                expr.trim()
            ));
        }
        _ => {
            return Err(format!(
                "cron expression `{expr}` has {fields} fields; write six (`sec min hour day-of-month month day-of-week`) or seven (with a year), such as \"0 0 2 * * *\""
            ));
        }
    }
    let cron = parse(expr).map_err(|error| {
        format!(
            "invalid cron expression `{expr}`: {}; {LAYOUT}",
            reason(&error.to_string())
        )
    })?;
    if next_after(&cron, Utc::now()).is_none() {
        return Err(format!(
            "cron expression `{expr}` never fires: no time from now on matches it; check the day-of-month, month and year fields"
        ));
    }
    Ok(())
}

fn parse(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Optional)
        .build()
        .parse(expr)
}

/// The first tick after `now`. The macro probes from the time it runs, as
/// jobs-core does when it parses: a schedule whose last tick (its year
/// field) is already past would never run once deployed.
fn next_after(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now, false).ok()
}

/// croner's message in our style: no category prefix, lowercase first
/// letter, no final period.
fn reason(message: &str) -> String {
    let mut message = message.trim().trim_end_matches('.');
    for prefix in ["Component error: ", "Invalid pattern: "] {
        message = message.strip_prefix(prefix).unwrap_or(message);
    }
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "croner rejected it".to_owned(),
    }
}

/// The zone, or why the name is not one.
pub(crate) fn parse_zone(tz: &str) -> Result<Tz, String> {
    tz.parse::<Tz>().map_err(|_| {
        format!("unknown time zone {tz:?}: use an IANA name such as \"UTC\" or \"Europe/Berlin\"")
    })
}

/// Why a misfire policy is not one.
pub(crate) fn check_misfire(text: &str) -> Result<&'static str, String> {
    match text {
        "once" => Ok("Once"),
        "skip" => Ok("Skip"),
        "all" => Ok("All"),
        other => Err(format!(
            "unknown misfire policy {other:?}: write \"once\" (one catch-up run, the default), \"skip\" or \"all\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(expr: &str) -> Result<(), String> {
        check_expression(expr)
    }

    #[test]
    fn six_and_seven_fields_pass() {
        for ok in [
            "0 0 2 * * *",
            "*/15 * * * * *",
            "0 30 9 * * MON-FRI",
            "0 0 12 1 JAN ?",
            "0 0 0 1 1 * 2030",
            "0 0 0 29 2 *",
        ] {
            assert_eq!(utc(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn five_fields_show_the_six_field_form() {
        let error = utc("0 2 * * *").unwrap_err();
        assert_eq!(
            error,
            "cron expression `0 2 * * *` has five fields; six are needed, starting with seconds: write \"0 0 2 * * *\""
        );
    }

    #[test]
    fn other_field_counts() {
        assert!(utc("* * * *").unwrap_err().contains("has 4 fields"));
        assert!(utc("").unwrap_err().contains("has 0 fields"));
        assert!(
            utc("0 0 0 1 1 * 2030 x")
                .unwrap_err()
                .contains("has 8 fields")
        );
    }

    #[test]
    fn parser_errors_carry_the_reason() {
        let error = utc("0 0 25 * * *").unwrap_err();
        assert!(
            error.starts_with("invalid cron expression `0 0 25 * * *`: "),
            "{error}"
        );
        assert!(!error.ends_with('.'), "{error}");
    }

    #[test]
    fn expressions_that_never_fire() {
        assert!(utc("0 0 0 30 2 *").unwrap_err().contains("never fires"));
        assert!(utc("0 0 0 1 1 * 2020").unwrap_err().contains("never fires"));
    }

    #[test]
    fn a_year_whose_ticks_are_past_never_fires() {
        // June 2026 is after the probe date this check used to start from
        // (2026-01-01) but before now
        let error = utc("0 0 12 1 6 * 2026").unwrap_err();
        assert_eq!(
            error,
            "cron expression `0 0 12 1 6 * 2026` never fires: no time from now on matches it; check the day-of-month, month and year fields"
        );
        let cron = parse("0 0 12 1 6 * 2026").expect("valid syntax");
        let new_year = DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01");
        assert!(next_after(&cron, new_year).is_some(), "it did fire once");
    }

    #[test]
    fn zones_and_misfire() {
        assert!(parse_zone("Europe/Berlin").is_ok());
        assert!(parse_zone("Mars/Olympus").unwrap_err().contains("IANA"));
        assert_eq!(check_misfire("skip"), Ok("Skip"));
        assert!(check_misfire("never").is_err());
    }
}
