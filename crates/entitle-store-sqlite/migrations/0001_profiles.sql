-- Apps, their API keys, profiles and deletion records.
--
-- Layout rule (DESIGN.md §9): rows that are read and deleted together are stored together.
-- Tables are keyed by (app, profile, ...) and WITHOUT ROWID, and a profile's personal data is
-- one compact document in its row, so deleting a profile touches a handful of adjacent pages.

CREATE TABLE apps (
    app_pk      INTEGER PRIMARY KEY,
    app_id      BLOB NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- Key for the keyed hashes that stand in for profile ids in deletion records.
    record_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    lookup        TEXT PRIMARY KEY,
    key_id        BLOB NOT NULL UNIQUE,
    app_pk        INTEGER NOT NULL REFERENCES apps (app_pk),
    secret_sha256 BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) WITHOUT ROWID;

CREATE TABLE profiles (
    app_pk            INTEGER NOT NULL,
    profile_id        BLOB NOT NULL,
    customer_user_id  TEXT,
    attributes        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (app_pk, profile_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX profiles_by_customer_user_id
    ON profiles (app_pk, customer_user_id) WHERE customer_user_id IS NOT NULL;

CREATE TABLE deletion_records (
    app_pk        INTEGER NOT NULL,
    deletion_seq  INTEGER NOT NULL,
    deletion_id   BLOB NOT NULL,
    -- Keyed hash of the profile id: matchable by whoever knows the id, readable by no one.
    profile_hash  BLOB NOT NULL,
    deleted_by    BLOB NOT NULL,
    deleted_at    INTEGER NOT NULL,
    counts        TEXT NOT NULL,
    PRIMARY KEY (app_pk, deletion_seq)
) WITHOUT ROWID;
