-- Who each event names in `profiles_sharing_access_level`, beside the event's own profile.
--
-- An event leaves with its profile, but it may name other profiles, with their customer user
-- ids, as sharing its access level. When one of those is deleted, the events that name it are
-- found here and it is taken out of them (DESIGN.md §4.3: nothing that carried a deleted
-- person's data survives in the feed or the outbox). Rows exist only for events that share.

CREATE TABLE sharing_mentions (
    app_pk     BIGINT NOT NULL,
    -- The profile named in the event's sharing list.
    profile_id UUID NOT NULL,
    event_seq  BIGINT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, event_seq)
);

-- A deleted profile's own events take their mentions of others with them.
CREATE INDEX sharing_mentions_by_event ON sharing_mentions (event_seq);

-- The events written before this table existed (only payloads with a list are parsed).
INSERT INTO sharing_mentions (app_pk, profile_id, event_seq)
SELECT e.app_pk, (m.value ->> 'profile_id')::uuid, e.event_seq
FROM events e
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.payload::jsonb -> 'profiles_sharing_access_level') = 'array'
         THEN e.payload::jsonb -> 'profiles_sharing_access_level'
         ELSE '[]'::jsonb END
) AS m(value)
WHERE e.payload LIKE '%"profiles_sharing_access_level":[%'
ON CONFLICT DO NOTHING;
