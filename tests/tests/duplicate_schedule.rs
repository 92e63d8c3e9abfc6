//! Two recurring jobs with one schedule id: no worker can be built.

use jobs_core::{BuildError, Worker, recurring};
use jobs_memory::MemoryBackend;

#[recurring(cron = "0 0 2 * * *", id = "nightly")]
async fn nightly_report() {}

#[recurring(cron = "0 0 3 * * *", id = "nightly")]
async fn nightly_cleanup() {}

#[test]
fn a_shared_schedule_id_fails_naming_both_jobs() {
    match Worker::builder(MemoryBackend::new()).build().unwrap_err() {
        BuildError::DuplicateScheduleId { id, first, second } => {
            assert_eq!(id, "nightly");
            let mut both = [first, second];
            both.sort();
            assert_eq!(both, [nightly_cleanup::NAME, nightly_report::NAME]);
        }
        other => panic!("expected DuplicateScheduleId, got {other:?}"),
    }
}
