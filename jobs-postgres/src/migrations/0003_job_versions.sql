-- Every job records the version of its kind it was enqueued with
-- (`#[job(version = N)]`), so a worker never claims a job newer than it
-- knows and upgrades an older one before decoding it. Rows stored before
-- this migration were version 1, as is every kind that never set one.
-- The claim filters on it after the partial index `jobs_ready_idx` has
-- picked the queue's rows in claim order, so that index is unchanged.

ALTER TABLE {schema}.jobs
    ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- The version each tick of a schedule enqueues its job with.
ALTER TABLE {schema}.schedules
    ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
