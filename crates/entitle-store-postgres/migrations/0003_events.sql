-- Integration events (the event feed), webhook integrations and the delivery outbox.
--
-- An event's payload carries personal data (email, customer user id, custom attributes), so
-- events are keyed by (app, profile, position) and leave with their profile in one range delete.
-- Deliveries hold no payload; they point at their event.

-- Feed positions come from one global sequence rather than SQLite's per-app counter: a counter
-- row would make every event-writing transaction of an app wait for the one before it.
CREATE SEQUENCE event_positions;

CREATE TABLE events (
    app_pk     BIGINT NOT NULL,
    profile_id UUID NOT NULL,
    event_seq  BIGINT NOT NULL,
    event_id   UUID NOT NULL,
    event_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    reissued   BOOLEAN NOT NULL,
    -- The webhook body, exactly as written.
    payload    TEXT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, event_seq)
);

-- The feed, newest first.
CREATE UNIQUE INDEX events_feed ON events (app_pk, event_seq);

CREATE TABLE integrations (
    integration_pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id UUID NOT NULL UNIQUE,
    app_pk         BIGINT NOT NULL,
    url            TEXT NOT NULL,
    -- `authorization` is a reserved word in PostgreSQL.
    authorization_header TEXT,
    environment    TEXT,
    event_types    TEXT,
    signing_secret TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    removed_at     BIGINT
);

CREATE TABLE deliveries (
    delivery_pk     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      TEXT NOT NULL,
    app_pk          BIGINT NOT NULL,
    profile_id      UUID NOT NULL,
    event_seq       BIGINT NOT NULL,
    integration_pk  BIGINT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT,
    -- The worker holding the delivery, until lease_until; claims skip rows other workers hold.
    lease_owner     TEXT,
    lease_until     BIGINT
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (app_pk, profile_id, event_seq);
CREATE INDEX deliveries_by_integration ON deliveries (integration_pk) WHERE status = 'pending';

CREATE TABLE delivery_attempts (
    delivery_pk  BIGINT NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (delivery_pk, attempt)
);
