//! Leader election through one row with an expiry: a worker leads while the
//! row names it and has not expired; it renews the row before then. When
//! the leader dies, the row expires and the next worker to ask takes over.

use std::time::Duration;

use sqlx::{PgPool, SqlStr};

use crate::schema::render;
use crate::{Error, Result};

/// The row's key: one leader per schema.
const LEADER_NAME: &str = "default";

const ELECT: &str = "
INSERT INTO {schema}.leader AS l (name, worker_id, elected_at, expires_at)
VALUES ($1, $2, now(), now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
SET worker_id = EXCLUDED.worker_id,
    expires_at = EXCLUDED.expires_at,
    elected_at = CASE WHEN l.worker_id = EXCLUDED.worker_id THEN l.elected_at ELSE now() END
WHERE l.worker_id = EXCLUDED.worker_id OR l.expires_at < now()
RETURNING worker_id";

const RESIGN: &str = "DELETE FROM {schema}.leader WHERE name = $1 AND worker_id = $2";

/// The rendered election statements of one schema.
#[derive(Debug)]
pub(crate) struct LeaderSql {
    elect: SqlStr,
    resign: SqlStr,
}

impl LeaderSql {
    pub(crate) fn new(schema: &str) -> Self {
        Self {
            elect: render(ELECT, schema),
            resign: render(RESIGN, schema),
        }
    }
}

/// Becomes or stays leader for `ttl` if no other worker holds an unexpired
/// term. Returns whether `worker_id` leads.
pub(crate) async fn elect(
    pool: &PgPool,
    sql: &LeaderSql,
    worker_id: &str,
    ttl: Duration,
) -> Result<bool> {
    let elected: Option<String> = sqlx::query_scalar(sql.elect.clone())
        .bind(LEADER_NAME)
        .bind(worker_id)
        .bind(ttl.as_secs_f64())
        .fetch_optional(pool)
        .await
        .map_err(Error::db(format!("elect worker `{worker_id}` as leader")))?;
    Ok(elected.is_some())
}

/// Gives the term up if `worker_id` holds it.
pub(crate) async fn resign(pool: &PgPool, sql: &LeaderSql, worker_id: &str) -> Result<()> {
    sqlx::query(sql.resign.clone())
        .bind(LEADER_NAME)
        .bind(worker_id)
        .execute(pool)
        .await
        .map_err(Error::db(format!("resign the leadership of `{worker_id}`")))?;
    Ok(())
}
