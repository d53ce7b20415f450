-- Who asked for each deletion (an API key or a bulk job), and bulk deletion jobs.
--
-- A job item holds the id it names only until it has been processed: a customer user id of a
-- deleted person must not outlive the deletion (DESIGN.md §4). Results refer to the item's
-- position in the submitted list.

ALTER TABLE deletion_records ADD COLUMN deleted_by_kind TEXT NOT NULL DEFAULT 'key';

CREATE TABLE deletion_jobs (
    job_pk      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      UUID NOT NULL UNIQUE,
    app_pk      BIGINT NOT NULL,
    -- Keyed hash of the submitted list: resubmitting the same list finds the same job (and two
    -- concurrent submissions of it race on this key; the loser finds the winner's job).
    fingerprint BYTEA NOT NULL,
    total       INTEGER NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (app_pk, fingerprint)
);

CREATE TABLE deletion_job_items (
    job_pk      BIGINT NOT NULL,
    item_index  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT,
    status      TEXT NOT NULL,
    error       TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    PRIMARY KEY (job_pk, item_index)
);

CREATE INDEX deletion_job_items_pending ON deletion_job_items (job_pk, item_index)
    WHERE status = 'pending';
