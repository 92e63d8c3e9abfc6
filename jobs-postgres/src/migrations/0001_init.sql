-- Jobs, recurring schedules and the leader row.
-- `{schema}` is replaced by the configured schema name; every statement is
-- idempotent so a half-applied migration can be run again.

CREATE TABLE IF NOT EXISTS {schema}.jobs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL,
    queue        text        NOT NULL,
    args         jsonb       NOT NULL,
    state        text        NOT NULL CHECK (state IN
                     ('scheduled', 'available', 'running', 'retryable', 'completed', 'dead', 'cancelled')),
    priority     smallint    NOT NULL DEFAULT 0,
    attempt      integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL,
    -- every failed attempt: [{"attempt": 1, "message": "...", "at": "..."}]
    errors       jsonb       NOT NULL DEFAULT '[]',
    unique_key   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    attempted_at timestamptz,
    finished_at  timestamptz,
    -- the last progress its run reported (0 to 1), written at heartbeats
    progress     real,
    -- while running: the lease the heartbeat renews, and who holds it
    leased_until timestamptz,
    worker_id    text
);

-- The claim's hot path: only waiting rows, in claim order.
CREATE INDEX IF NOT EXISTS jobs_ready_idx ON {schema}.jobs (queue, priority, scheduled_at, id)
    WHERE state IN ('available', 'scheduled', 'retryable');

-- When the next waiting job becomes due, asked by idle workers: only
-- scheduled and retryable rows, by time.
CREATE INDEX IF NOT EXISTS jobs_waiting_idx ON {schema}.jobs (queue, scheduled_at)
    WHERE state IN ('scheduled', 'retryable');

-- Unique jobs: one unfinished job per kind and key. A finished job leaves
-- the index, so an equal job may be enqueued again. The key is indexed by
-- its hash: a unique job's key defaults to its arguments, which can be far
-- larger than a btree entry may be.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_unique_idx ON {schema}.jobs (kind, md5(unique_key))
    WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable');

-- The rescuer: running rows by lease expiry.
CREATE INDEX IF NOT EXISTS jobs_leased_idx ON {schema}.jobs (leased_until)
    WHERE state = 'running';

-- The pruner: finished rows by age.
CREATE INDEX IF NOT EXISTS jobs_finished_idx ON {schema}.jobs (finished_at)
    WHERE state IN ('completed', 'dead', 'cancelled');

CREATE TABLE IF NOT EXISTS {schema}.schedules (
    id          text        PRIMARY KEY,
    kind        text        NOT NULL,
    cron        text        NOT NULL,
    tz          text        NOT NULL,
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row while some worker leads; it lapses at expires_at unless renewed.
CREATE TABLE IF NOT EXISTS {schema}.leader (
    name       text        PRIMARY KEY,
    worker_id  text        NOT NULL,
    elected_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
