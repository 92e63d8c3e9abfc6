-- Indexes for reading a large store (SPEC 12): listing the jobs of one
-- state and counting the unfinished ones without visiting the finished
-- rows, which a store keeps by the million for their retention period.
--
-- Both are partial over rare states: a row enters them only when it is
-- awaiting, dead or cancelled, so the enqueue, claim and completion of an
-- ordinary job add no entry to either.

-- Jobs waiting for their parents (continuations), by queue.
CREATE INDEX IF NOT EXISTS jobs_awaiting_idx ON {schema}.jobs (queue, id)
    WHERE state = 'awaiting';

-- Jobs that failed for good or were cancelled, by id.
CREATE INDEX IF NOT EXISTS jobs_failed_idx ON {schema}.jobs (id)
    WHERE state IN ('dead', 'cancelled');
