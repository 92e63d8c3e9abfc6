-- Schedules can be stored at run time (`Client::upsert_schedule`) as well
-- as declared by a binary's `#[recurring]`: each records its origin. A
-- declaration wins an id both use.
ALTER TABLE {schema}.schedules
    ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'declared'
        CHECK (origin IN ('declared', 'runtime'));

-- Until when a live worker runs each job kind: it vouches for the run-time
-- schedules of that kind, including ones stored after its last renewal,
-- and renewing costs one row per kind however many schedules there are.
CREATE TABLE IF NOT EXISTS {schema}.schedule_kinds (
    kind           text        PRIMARY KEY,
    declared_until timestamptz NOT NULL
);
