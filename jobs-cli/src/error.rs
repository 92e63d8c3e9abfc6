//! The one error of the command: a sentence for standard error.

use std::fmt;

/// What went wrong, said in one line.
#[derive(Debug)]
pub(crate) struct CliError(String);

impl CliError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // one line whatever the sources said
        let line: String = self
            .0
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        f.write_str(&line)
    }
}

impl From<jobs_postgres::Error> for CliError {
    fn from(error: jobs_postgres::Error) -> Self {
        match error {
            jobs_postgres::Error::NotMigrated {
                schema,
                found,
                needed,
            } => CliError(format!(
                "schema `{schema}` is not migrated (it is at version {found}, this `jobs` needs {needed}): run `jobs migrate --schema {schema}` first"
            )),
            error => CliError(error.to_string()),
        }
    }
}

impl From<jobs_core::Error> for CliError {
    fn from(error: jobs_core::Error) -> Self {
        match error {
            // a backend error is a jobs-postgres one: say it as above
            jobs_core::Error::Backend(source) => match source.downcast::<jobs_postgres::Error>() {
                Ok(error) => CliError::from(*error),
                Err(source) => CliError(source.to_string()),
            },
            error => CliError(error.to_string()),
        }
    }
}

impl From<jobs_core::EnqueueError> for CliError {
    fn from(error: jobs_core::EnqueueError) -> Self {
        CliError::from(jobs_core::Error::from(error))
    }
}
