#![deny(warnings)]

use std::fmt;

use jobs_core::__private::Invocation;
use jobs_core::{job, recurring, JobContext, JobErrorKind, JobId};

#[derive(Debug)]
struct MyError;

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("my error")
    }
}

/// An application's own alias, as many crates write one.
type JobResult = Result<(), MyError>;

/// A generic alias in the shape of `anyhow::Result`.
type AppResult<T, E = anyhow::Error> = std::result::Result<T, E>;

mod errors {
    pub type Unit = ();
}

#[job]
async fn with_alias(fail: bool) -> JobResult {
    if fail {
        return Err(MyError);
    }
    Ok(())
}

#[job]
async fn with_generic_alias(fail: bool) -> AppResult<()> {
    anyhow::ensure!(!fail, "generic alias failed");
    Ok(())
}

#[job]
async fn with_unit_alias() -> errors::Unit {}

#[recurring(cron = "0 0 2 * * *", id = "alias-report")]
async fn recurring_with_alias() -> AppResult<(), MyError> {
    Ok(())
}

fn run(definition: &jobs_core::__private::JobDefinition, args: &str) -> Result<(), (JobErrorKind, String)> {
    let invocation = Invocation {
        args: args.into(),
        states: Default::default(),
        context: JobContext::detached(JobId::new(1), 1, 1),
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on((definition.run)(invocation))
        .map_err(|error| (error.kind(), error.message().to_owned()))
}

fn main() {
    assert_eq!(run(with_alias::definition(), r#"{"fail":false}"#), Ok(()));
    assert_eq!(
        run(with_alias::definition(), r#"{"fail":true}"#),
        Err((JobErrorKind::Failed, "my error".to_owned()))
    );
    assert_eq!(
        run(with_generic_alias::definition(), r#"{"fail":true}"#),
        Err((JobErrorKind::Failed, "generic alias failed".to_owned()))
    );
    assert_eq!(run(with_unit_alias::definition(), "{}"), Ok(()));
    assert_eq!(run(recurring_with_alias::definition(), "{}"), Ok(()));
    assert_eq!(recurring_with_alias::ID, "alias-report");
}
