-- Profiles keyed by their slot (src/slots.rs), a rowid computed from (app, profile id).
--
-- As a WITHOUT ROWID table keyed by (app, profile id), the profiles b-tree kept whole rows
-- (~450 bytes) in its interior pages too: eight to a page, six levels at 100,000 profiles.
-- A rowid table keeps rows in its leaves and 8-byte keys above them: three levels at
-- 100,000, four at a million, so a read or a delete of a profile walks half the pages. The
-- slot is computed, so no second (app, profile id) index is needed, and no write touches
-- one more b-tree than before.
--
-- The rows are copied by the migration's code (each to its slot, or the next free one);
-- this file makes the new table, then replaces the old one with it.

CREATE TABLE profiles_slotted (
    profile_slot      INTEGER PRIMARY KEY,
    app_pk            INTEGER NOT NULL,
    profile_id        BLOB NOT NULL,
    customer_user_id  TEXT,
    attributes        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    purchases         TEXT
);

-- (the rows are copied here)

DROP TABLE profiles;

ALTER TABLE profiles_slotted RENAME TO profiles;

CREATE UNIQUE INDEX profiles_by_customer_user_id
    ON profiles (app_pk, customer_user_id) WHERE customer_user_id IS NOT NULL;
