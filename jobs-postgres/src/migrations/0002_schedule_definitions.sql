-- Every stored schedule carries its whole definition (misfire policy and
-- the job each tick enqueues), so whichever worker leads can tick it, and
-- the time until which a live worker vouches for it, so schedules no
-- running binary declares can be reported as orphaned.

ALTER TABLE {schema}.schedules
    ADD COLUMN IF NOT EXISTS misfire        text        NOT NULL DEFAULT 'once'
        CHECK (misfire IN ('once', 'skip', 'all')),
    ADD COLUMN IF NOT EXISTS queue          text        NOT NULL DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS args           jsonb       NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS priority       smallint    NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS max_attempts   integer     NOT NULL DEFAULT 4,
    ADD COLUMN IF NOT EXISTS declared_until timestamptz NOT NULL DEFAULT now();
