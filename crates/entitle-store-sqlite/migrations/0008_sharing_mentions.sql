-- Who each event names in `profiles_sharing_access_level`, beside the event's own profile.
--
-- An event leaves with its profile, but it may name other profiles, with their customer user
-- ids, as sharing its access level. When one of those is deleted, the events that name it are
-- found here and it is taken out of them (DESIGN.md §4.3: nothing that carried a deleted
-- person's data survives in the feed or the outbox). Rows exist only for events that share, so
-- a delete with none pays one lookup in an empty range.

CREATE TABLE sharing_mentions (
    app_pk     INTEGER NOT NULL,
    -- The profile named in the event's sharing list.
    profile_id BLOB NOT NULL,
    body_pk    INTEGER NOT NULL,
    PRIMARY KEY (app_pk, profile_id, body_pk)
) WITHOUT ROWID;

-- A deleted profile's own events take their mentions of others with them.
CREATE INDEX sharing_mentions_by_body ON sharing_mentions (body_pk);

-- The events written before this table existed.
INSERT OR IGNORE INTO sharing_mentions (app_pk, profile_id, body_pk)
SELECT e.app_pk, unhex(replace(json_extract(m.value, '$.profile_id'), '-', '')), e.body_pk
FROM events e
JOIN event_bodies b ON b.body_pk = e.body_pk
JOIN json_each(b.personal, '$.profiles_sharing_access_level') m
WHERE b.personal IS NOT NULL
  AND json_type(b.personal, '$.profiles_sharing_access_level') = 'array'
  AND unhex(replace(json_extract(m.value, '$.profile_id'), '-', '')) IS NOT NULL;
