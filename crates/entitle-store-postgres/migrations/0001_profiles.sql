-- Apps, their API keys, profiles and deletion records: the same logical model as the SQLite
-- backend's migrations, in PostgreSQL's idioms.
--
-- Times are BIGINT microseconds since the epoch, exactly as in SQLite, so both backends round-trip
-- the same values. Documents (attributes, the purchases view) are TEXT, not JSONB: they are never
-- queried inside, they must come back byte for byte as serde wrote them, and JSONB would refuse
-- a \u0000 that a custom attribute may legitimately hold.

CREATE TABLE apps (
    app_pk             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id             UUID NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    -- Key for the keyed hashes that stand in for profile ids in deletion records.
    record_key         BYTEA NOT NULL,
    created_at         BIGINT NOT NULL,
    sharing_production TEXT NOT NULL DEFAULT 'enabled',
    sharing_sandbox    TEXT NOT NULL DEFAULT 'enabled'
);

CREATE TABLE api_keys (
    lookup        TEXT PRIMARY KEY,
    key_id        UUID NOT NULL UNIQUE,
    app_pk        BIGINT NOT NULL,
    secret_sha256 BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

-- Keyed by (app, profile) like every per-profile table, so a profile's rows are found (and
-- removed) through one index range.
CREATE TABLE profiles (
    app_pk           BIGINT NOT NULL,
    profile_id       UUID NOT NULL,
    customer_user_id TEXT,
    attributes       TEXT NOT NULL,
    -- The derived view of the profile's purchases, rewritten with every change that affects it.
    purchases        TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (app_pk, profile_id)
);

-- One profile per customer user id: concurrent creates of one id race on this index, and the
-- loser retries and finds the winner.
CREATE UNIQUE INDEX profiles_by_customer_user_id
    ON profiles (app_pk, customer_user_id) WHERE customer_user_id IS NOT NULL;

-- An identity column, not MAX()+1 as in SQLite's single writer: concurrent deletes must not
-- collide on the next number.
CREATE TABLE deletion_records (
    app_pk       BIGINT NOT NULL,
    deletion_seq BIGINT GENERATED ALWAYS AS IDENTITY,
    deletion_id  UUID NOT NULL,
    -- Keyed hash of the profile id: matchable by whoever knows the id, readable by no one.
    profile_hash BYTEA NOT NULL,
    deleted_by   UUID NOT NULL,
    deleted_at   BIGINT NOT NULL,
    counts       TEXT NOT NULL,
    PRIMARY KEY (app_pk, deletion_seq)
);
