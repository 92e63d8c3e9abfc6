//! The one error type of this crate.

use jobs_core::{BoxError, EnqueueError, JobId};

/// What went wrong talking to PostgreSQL, or with its schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query failed; `context` says which operation ran it.
    #[error("postgres: could not {context}: {source}")]
    Database {
        /// The operation, for example "claim jobs from queue `mail`".
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The configured schema name is not a plain lower-case identifier.
    #[error(
        "invalid schema name `{0}`: use 1 to 48 of a-z, 0-9 and `_`, starting with a letter or `_`"
    )]
    InvalidSchemaName(String),
    /// The schema was migrated by a newer version of this crate.
    #[error(
        "schema `{schema}` is at version {found}, newer than the newest this binary knows ({supported}); \
         upgrade jobs-postgres in this binary instead of running it against the newer schema"
    )]
    SchemaTooNew {
        /// The schema.
        schema: String,
        /// The version found in the database.
        found: i32,
        /// The newest version this binary knows.
        supported: i32,
    },
    /// The schema has not been migrated (or only partly).
    #[error(
        "schema `{schema}` is at version {found}, but this binary needs version {needed}: call `backend.migrate().await` first"
    )]
    NotMigrated {
        /// The schema.
        schema: String,
        /// The version found in the database (0: nothing there).
        found: i32,
        /// The version this binary needs.
        needed: i32,
    },
    /// A stored row could not be read back.
    #[error("postgres: stored {what} could not be decoded: {message}")]
    Decode {
        /// What was being read.
        what: String,
        /// Why it failed.
        message: String,
    },
    /// A setting is out of range.
    #[error("invalid jobs-postgres setting: {0}")]
    InvalidSetting(String),
    /// A job to store names a parent that is not stored
    /// (`EnqueueError::UnknownParent` to the client).
    #[error("job {0}, named as a parent, does not exist")]
    UnknownParent(JobId),
}

/// `Result` with this crate's [`Error`] as its default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A database error with what was being done.
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let context = context.into();
        move |source| Error::Database { context, source }
    }

    pub(crate) fn decode(what: impl Into<String>, message: impl ToString) -> Error {
        Error::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// The PostgreSQL error code (SQLSTATE), if the server reported one.
    pub fn sqlstate(&self) -> Option<String> {
        match self {
            Error::Database {
                source: sqlx::Error::Database(db),
                ..
            } => db.code().map(|code| code.into_owned()),
            _ => None,
        }
    }
}

impl From<Error> for EnqueueError {
    fn from(error: Error) -> Self {
        match error {
            Error::UnknownParent(parent) => EnqueueError::UnknownParent(parent),
            error => EnqueueError::Backend(Box::new(error)),
        }
    }
}

pub(crate) fn boxed(error: Error) -> BoxError {
    Box::new(error)
}
