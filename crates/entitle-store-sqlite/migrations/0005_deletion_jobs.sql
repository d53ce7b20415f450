-- Who asked for each deletion (an API key or a bulk job), and bulk deletion jobs.
--
-- A job item holds the id it names only until it has been processed: a customer user id of a
-- deleted person must not outlive the deletion (DESIGN.md §4). Results refer to the item's
-- position in the submitted list.

ALTER TABLE deletion_records ADD COLUMN deleted_by_kind TEXT NOT NULL DEFAULT 'key';

CREATE TABLE deletion_jobs (
    job_pk      INTEGER PRIMARY KEY,
    job_id      BLOB NOT NULL UNIQUE,
    app_pk      INTEGER NOT NULL,
    -- Keyed hash of the submitted list: resubmitting the same list finds the same job.
    fingerprint BLOB NOT NULL,
    total       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (app_pk, fingerprint)
);

CREATE TABLE deletion_job_items (
    job_pk      INTEGER NOT NULL,
    item_index  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT,
    status      TEXT NOT NULL,
    error       TEXT,
    lease_owner TEXT,
    lease_until INTEGER,
    PRIMARY KEY (job_pk, item_index)
) WITHOUT ROWID;

CREATE INDEX deletion_job_items_pending ON deletion_job_items (job_pk, item_index)
    WHERE status = 'pending';
