//! `Worker::builder(..).build()` checks the linked jobs against the
//! configuration and names the job at fault.

use jobs_core::{BuildError, JobContext, State, Worker, job};
use jobs_memory::MemoryBackend;

struct Mailer;
struct Database;

#[job]
async fn needs_mailer(mailer: State<Mailer>, ctx: JobContext, user_id: i64) {
    let _ = (mailer, ctx, user_id);
}

#[job]
async fn needs_database(db: State<Database>) {
    let _ = db;
}

#[job]
async fn needs_nothing() {}

#[test]
fn a_missing_state_names_the_job_and_the_type() {
    let error = Worker::builder(MemoryBackend::new())
        .state(Mailer)
        .build()
        .unwrap_err();
    match &error {
        BuildError::MissingState { job, state } => {
            assert_eq!(job, needs_database::NAME);
            assert!(state.ends_with("Database"), "{state}");
        }
        other => panic!("expected MissingState, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("`needs_database`") && message.contains(".state("),
        "{message}"
    );
}

#[test]
fn only_narrows_the_jobs_and_their_state_needs() {
    let worker = Worker::builder(MemoryBackend::new())
        .only(&[needs_nothing::NAME])
        .build()
        .unwrap();
    assert_eq!(worker.kinds(), [needs_nothing::NAME]);
    let worker = Worker::builder(MemoryBackend::new())
        .state(Mailer)
        .state(Database)
        .build()
        .unwrap();
    for kind in [
        needs_mailer::NAME,
        needs_database::NAME,
        needs_nothing::NAME,
    ] {
        assert!(
            worker.kinds().contains(&kind),
            "{kind} is registered without a hand-kept list"
        );
    }
}

#[test]
fn only_with_an_unknown_kind_fails() {
    let error = Worker::builder(MemoryBackend::new())
        .only(&["no_such_job"])
        .build()
        .unwrap_err();
    assert_eq!(
        error,
        BuildError::UnknownJob {
            kind: "no_such_job".into()
        }
    );
}

#[test]
fn bad_queue_settings_fail() {
    let error = Worker::builder(MemoryBackend::new())
        .only(&[needs_nothing::NAME])
        .queue("Bad Name", 2)
        .build();
    assert_eq!(
        error.unwrap_err(),
        BuildError::InvalidQueue("Bad Name".into())
    );
    let error = Worker::builder(MemoryBackend::new())
        .only(&[needs_nothing::NAME])
        .queue("fine", 0)
        .build();
    assert_eq!(
        error.unwrap_err(),
        BuildError::ZeroConcurrency("fine".into())
    );
}
