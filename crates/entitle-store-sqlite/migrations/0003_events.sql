-- Integration events (the event feed), webhook integrations and the delivery outbox.
--
-- An event's payload carries personal data (email, customer user id, custom attributes), so
-- events are keyed by (app, profile, position) and leave with their profile in one range delete.
-- Deliveries hold no payload; they point at their event.

ALTER TABLE apps ADD COLUMN next_event_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE events (
    app_pk      INTEGER NOT NULL,
    profile_id  BLOB NOT NULL,
    event_seq   INTEGER NOT NULL,
    event_id    BLOB NOT NULL,
    event_type  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    reissued    INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, event_seq)
) WITHOUT ROWID;

-- The feed, newest first.
CREATE UNIQUE INDEX events_feed ON events (app_pk, event_seq);

CREATE TABLE integrations (
    integration_pk INTEGER PRIMARY KEY,
    integration_id BLOB NOT NULL UNIQUE,
    app_pk         INTEGER NOT NULL,
    url            TEXT NOT NULL,
    authorization  TEXT,
    environment    TEXT,
    event_types    TEXT,
    signing_secret TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    removed_at     INTEGER
);

CREATE TABLE deliveries (
    delivery_pk      INTEGER PRIMARY KEY,
    webhook_id       TEXT NOT NULL,
    app_pk           INTEGER NOT NULL,
    profile_id       BLOB NOT NULL,
    event_seq        INTEGER NOT NULL,
    integration_pk   INTEGER NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (app_pk, profile_id, event_seq);

CREATE TABLE delivery_attempts (
    delivery_pk  INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    PRIMARY KEY (delivery_pk, attempt)
) WITHOUT ROWID;
