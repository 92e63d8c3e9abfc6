-- Live workers (SPEC 12): each running worker upserts its row at every
-- heartbeat; a row whose lease (expires_at) has passed is a worker that
-- stopped heartbeating, left out of listings and deleted by the leader's
-- maintenance. A graceful shutdown deletes its row at once.

CREATE TABLE IF NOT EXISTS {schema}.workers (
    id           text        PRIMARY KEY,
    hostname     text        NOT NULL,
    pid          bigint      NOT NULL,
    -- [{"name": "default", "concurrency": 4}, ...], in the order given
    queues       jsonb       NOT NULL DEFAULT '[]',
    running      bigint      NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- The pruner: rows by expiry.
CREATE INDEX IF NOT EXISTS workers_expires_idx ON {schema}.workers (expires_at);
