-- Continuations and batches (SPEC §10): the `awaiting` state, the waits
-- of awaiting jobs on their parents, batches, and the function that
-- settles a parent's children when it ends.

ALTER TABLE {schema}.jobs DROP CONSTRAINT IF EXISTS jobs_state_check;
ALTER TABLE {schema}.jobs ADD CONSTRAINT jobs_state_check CHECK (state IN
    ('awaiting', 'scheduled', 'available', 'running', 'retryable', 'completed', 'dead', 'cancelled'));

-- every parent's id in the order given (NULL for almost every job)
ALTER TABLE {schema}.jobs ADD COLUMN IF NOT EXISTS parents bigint[];
-- the batch the job belongs to
ALTER TABLE {schema}.jobs ADD COLUMN IF NOT EXISTS batch_id bigint;
-- some job waits or waited on this one: its end must settle them. Set by
-- the insert of a child (which locks the parent's row to set it), read by
-- the statements that end jobs, so jobs nobody waits on cost nothing more.
ALTER TABLE {schema}.jobs ADD COLUMN IF NOT EXISTS has_children boolean NOT NULL DEFAULT false;

CREATE INDEX IF NOT EXISTS jobs_batch_idx ON {schema}.jobs (batch_id) WHERE batch_id IS NOT NULL;

-- An awaiting job holds its unique key like any unfinished one.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_unique_unfinished_idx ON {schema}.jobs (kind, md5(unique_key))
    WHERE unique_key IS NOT NULL
      AND state IN ('awaiting', 'scheduled', 'available', 'running', 'retryable');
DROP INDEX IF EXISTS {schema}.jobs_unique_idx;

CREATE TABLE IF NOT EXISTS {schema}.batches (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    on_success  bigint,
    on_complete bigint
);

-- What awaiting jobs still wait for: one row per child and parent not yet
-- ended. A row goes when its parent ends (or is deleted), or when its
-- child is cancelled or deleted.
CREATE TABLE IF NOT EXISTS {schema}.job_waits (
    parent          bigint  NOT NULL,
    child           bigint  NOT NULL,
    needs_completed boolean NOT NULL,
    PRIMARY KEY (parent, child)
);
CREATE INDEX IF NOT EXISTS job_waits_child_idx ON {schema}.job_waits (child);

-- Settles the children of jobs that just ended: `ended` and `ends` are the
-- parents' ids and how each ended ('completed', 'dead', 'cancelled' or
-- 'deleted'). jobs-core's rules (`ParentEnd::satisfies`,
-- `broken_message`), in SQL: a child whose parent had to complete and did
-- not is cancelled with a message naming that parent, which ends it in
-- turn (the loop, for the cascade); a child with no wait left becomes
-- available, or scheduled while its time is to come, and its queue is
-- notified on `channel`. Children are locked in id order before their
-- waits are read, so when a child's last two parents end at once, the
-- second to lock sees the first's deletion and releases it. Returns how
-- many children it settled.
CREATE OR REPLACE FUNCTION {schema}.jobs_settle_children(ended bigint[], ends text[], channel text)
RETURNS integer
LANGUAGE plpgsql AS $settle$
DECLARE
    children  bigint[];
    cancelled bigint[];
    queues    text;
    settled   integer := 0;
BEGIN
    WHILE cardinality(ended) > 0 LOOP
        PERFORM 1 FROM {schema}.jobs
        WHERE id IN (SELECT w.child FROM {schema}.job_waits w WHERE w.parent = ANY(ended))
        ORDER BY id
        FOR UPDATE;

        WITH gone AS (
            DELETE FROM {schema}.job_waits w
            USING unnest(ended, ends) AS e(id, how)
            WHERE w.parent = e.id
            RETURNING w.child, w.parent, w.needs_completed, e.how
        ),
        broken AS (
            SELECT DISTINCT ON (child) child, parent, how
            FROM gone
            WHERE needs_completed AND how <> 'completed'
            ORDER BY child, parent
        ),
        cancel AS (
            UPDATE {schema}.jobs j
            SET state = 'cancelled',
                finished_at = now(),
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempt,
                    'message', format('parent job %s ended %s; this job needed it completed',
                                      b.parent, b.how),
                    'at', now()))
            FROM broken b
            WHERE j.id = b.child AND j.state = 'awaiting'
            RETURNING j.id
        )
        SELECT (SELECT array_agg(DISTINCT child) FROM gone),
               (SELECT array_agg(id ORDER BY id) FROM cancel)
        INTO children, cancelled;

        cancelled := COALESCE(cancelled, ARRAY[]::bigint[]);
        DELETE FROM {schema}.job_waits WHERE child = ANY(cancelled);

        WITH ready AS (
            UPDATE {schema}.jobs j
            SET state = CASE WHEN j.scheduled_at > now() THEN 'scheduled' ELSE 'available' END
            WHERE j.id = ANY(children)
              AND j.state = 'awaiting'
              AND NOT EXISTS (SELECT 1 FROM {schema}.job_waits w WHERE w.child = j.id)
            RETURNING j.queue, j.state
        )
        SELECT string_agg(DISTINCT queue, ',') FILTER (WHERE state = 'available')
        INTO queues FROM ready;
        IF queues IS NOT NULL THEN
            PERFORM pg_notify(channel, queues);
        END IF;

        settled := settled + COALESCE(cardinality(children), 0);
        ended := cancelled;
        ends := array_fill('cancelled'::text, ARRAY[cardinality(cancelled)]);
    END LOOP;
    RETURN settled;
END
$settle$;
