-- Flow control (SPEC §11): per-key concurrency, rate limits and paused
-- queues. Nothing here touches the claim of a kind without limits except
-- the paused-queue test, which PostgreSQL evaluates once per statement.

-- For a kind with `concurrency_key`: the value of that argument (JSON
-- text). A limited claim counts running rows per value.
ALTER TABLE {schema}.jobs
    ADD COLUMN IF NOT EXISTS concurrency_key text;

-- One row per queue that was ever paused or resumed.
CREATE TABLE IF NOT EXISTS {schema}.queues (
    name       text        PRIMARY KEY,
    paused     boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The starts of rate-limited kinds within their window: written and pruned
-- only by the claims of those kinds, under a per-kind advisory lock.
CREATE TABLE IF NOT EXISTS {schema}.job_starts (
    kind       text        NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS job_starts_kind_idx ON {schema}.job_starts (kind, started_at);
