//! The overview's chart: completed and failed jobs per minute over the
//! last hour, as an SVG drawn on the server (no script, no network).

use chrono::{DateTime, Utc};
use jobs_core::FinishedMinute;
use maud::{Markup, html};

/// Minutes shown.
pub(crate) const MINUTES: i64 = 60;
const BAR: i64 = 12;
const HEIGHT: u64 = 140;
const TOP: u64 = 16;

/// The chart of `minutes` (as the client returns them) for the hour
/// ending at `now`.
pub(crate) fn finished_per_minute(minutes: &[FinishedMinute], now: DateTime<Utc>) -> Markup {
    let this_minute = now.timestamp().div_euclid(60);
    let mut slots = [(0u64, 0u64); MINUTES as usize];
    for minute in minutes {
        let age = this_minute - minute.minute.timestamp().div_euclid(60);
        if let Ok(age) = usize::try_from(age)
            && age < slots.len()
        {
            let slot = &mut slots[slots.len() - 1 - age];
            slot.0 += minute.completed;
            slot.1 += minute.failed;
        }
    }
    let peak = slots
        .iter()
        .map(|&(completed, failed)| completed + failed)
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |count: u64| count.saturating_mul(HEIGHT) / peak;
    let width = MINUTES * BAR;
    let (total_completed, total_failed) =
        slots.iter().fold((0, 0), |(c, f), &(completed, failed)| {
            (c + completed, f + failed)
        });
    let bottom = TOP + HEIGHT;
    html! {
        figure {
            svg.chart role="img" viewBox={"0 0 " (width) " " (bottom + 18)} width=(width) height=(bottom + 18)
                aria-label={"Jobs finished per minute over the last hour: " (total_completed) " completed, " (total_failed) " failed"} {
                @for (index, &(completed, failed)) in slots.iter().enumerate() {
                    @let x = index as i64 * BAR + 1;
                    @let completed_height = scale(completed);
                    @let failed_height = scale(failed);
                    @if completed > 0 {
                        rect.completed x=(x) y=(bottom - completed_height) width=(BAR - 2) height=(completed_height) {
                            title { (completed) " completed" }
                        }
                    }
                    @if failed > 0 {
                        rect.failed x=(x) y=(bottom - completed_height - failed_height) width=(BAR - 2) height=(failed_height) {
                            title { (failed) " failed" }
                        }
                    }
                }
                text x="2" y="12" { (peak) " per minute" }
                text x="2" y=(bottom + 14) { "60 min ago" }
                text x=(width - 26) y=(bottom + 14) { "now" }
            }
            figcaption.legend {
                span.completed { (total_completed) " completed" }
                span.failed { (total_failed) " failed" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_land_in_their_minute_and_old_ones_are_left_out() {
        let now = DateTime::from_timestamp(600_000, 0).unwrap();
        let minute = |ago: i64, completed, failed| FinishedMinute {
            minute: now - chrono::TimeDelta::minutes(ago),
            completed,
            failed,
        };
        let svg = finished_per_minute(
            &[minute(0, 5, 1), minute(59, 2, 0), minute(61, 99, 99)],
            now,
        )
        .into_string();
        assert!(svg.contains("7 completed"), "{svg}");
        assert!(svg.contains("1 failed"));
        assert!(
            !svg.contains("99"),
            "a minute over an hour ago is not drawn"
        );
        assert_eq!(svg.matches("<rect").count(), 3);
    }
}
