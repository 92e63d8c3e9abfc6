//! One more try, on a live connection, for an operation whose statement
//! certainly never took effect because the server had ended the session of
//! the pooled connection it was sent on.
//!
//! After a server restart every pooled connection is dead, and the pool
//! checks a connection only after it sat idle for a while (a check per
//! checkout would double the round trips of the hot path), so a busy
//! client's first statements would fail. They are tried again when the
//! error proves that nothing they sent was committed:
//!
//! - the server ended the session with `FATAL` 57P01 (`admin_shutdown`:
//!   `pg_ctl stop` or restart in the smart or fast mode,
//!   `pg_terminate_backend`), 57P02 (`crash_shutdown`), 57P03
//!   (`cannot_connect_now`) or 57P05 (`idle_session_timeout`). Such an
//!   error aborts whatever transaction was open, and a session that commits
//!   flushes its answer before it next looks at such a request, so a
//!   statement answered by one of them was never committed: usually it was
//!   never even read, the session having ended while the connection sat in
//!   the pool. (An immediate shutdown or a crash, which may end a session
//!   right after a commit, only warns and closes the connection: an I/O
//!   error, which is not retried.)
//! - writing the statement failed with a broken pipe: the connection was
//!   closed before the statement's end (and so its `Sync` or `COMMIT`)
//!   reached the server.
//!
//! Any other error, in particular an I/O error while reading the answer, is
//! returned: the statement may have been committed before the connection
//! was lost, and running it again could store a job twice.
//!
//! The operations that go through here write in one statement or in one
//! transaction, so what failed left nothing behind.

use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgPool, Postgres};

use crate::{Error, Result};

/// SQLSTATEs with which the server ends a session (`FATAL`) without having
/// committed what it was sent; see the module docs.
const SESSION_ENDED: [&str; 4] = ["57P01", "57P02", "57P03", "57P05"];

/// An operation's run on the connection it is given.
pub(crate) type Run<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Runs `op` on a pooled connection; if it fails because that connection's
/// session had ended, runs it once more on a connection that answers a
/// ping. `context` describes the operation for errors getting a connection.
///
/// `op` owns the connection it is given (a closure over a borrowed one
/// could not promise a `Send` future for every borrow); when it drops a
/// dead one, the pool's check on release closes it.
pub(crate) async fn run<'a, T>(
    pool: &PgPool,
    context: impl Fn() -> String,
    mut op: impl FnMut(PoolConnection<Postgres>) -> Run<'a, T>,
) -> Result<T> {
    let conn = pool.acquire().await.map_err(Error::db(context()))?;
    match op(conn).await {
        Err(error) if never_ran(&error) => {
            tracing::debug!(
                %error,
                "the server had ended a pooled connection's session; running the statement again on a live connection"
            );
            op(live_connection(pool, &context).await?).await
        }
        outcome => outcome,
    }
}

/// Whether `error` proves that the statement it answers was not committed.
fn never_ran(error: &Error) -> bool {
    let Error::Database { source, .. } = error else {
        return false;
    };
    match source {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| SESSION_ENDED.contains(&code.as_ref())),
        sqlx::Error::Io(io) => io.kind() == ErrorKind::BrokenPipe,
        _ => false,
    }
}

/// A pooled connection that answers a ping. After a restart the pool may
/// still hold other dead connections; each one met is closed, so at most
/// the pool's size of them are tried before it opens a new one.
async fn live_connection(
    pool: &PgPool,
    context: &impl Fn() -> String,
) -> Result<PoolConnection<Postgres>> {
    let mut tries = pool.options().get_max_connections();
    loop {
        let mut conn = pool.acquire().await.map_err(Error::db(context()))?;
        match conn.ping().await {
            Ok(()) => return Ok(conn),
            Err(error) if tries == 0 => return Err(Error::db(context())(error)),
            Err(_) => {
                drop(conn.detach());
                tries -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: ErrorKind) -> Error {
        Error::db("test")(sqlx::Error::Io(std::io::Error::from(kind)))
    }

    #[test]
    fn only_a_broken_pipe_proves_an_io_error_harmless() {
        assert!(never_ran(&io(ErrorKind::BrokenPipe)));
        for kind in [
            ErrorKind::UnexpectedEof,
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::TimedOut,
        ] {
            assert!(!never_ran(&io(kind)), "{kind:?}");
        }
        assert!(!never_ran(&Error::db("test")(sqlx::Error::PoolTimedOut)));
        assert!(!never_ran(&Error::decode("test", "not a database error")));
    }
}
