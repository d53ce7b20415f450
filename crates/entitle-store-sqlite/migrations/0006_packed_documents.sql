-- Small rows in the b-trees that keep a profile's rows together.
--
-- `events` is a WITHOUT ROWID table keyed by (app, profile, position): a profile's events are
-- adjacent, so they leave in one range delete. But in such a table (an index b-tree) every
-- entry is stored whole, interior pages included; with the 1.6 KB payload in each row a 4 KiB
-- page held two or three entries, the tree was deep, and one profile's events spread over
-- half a dozen pages. The payload now lives in `event_bodies`, a rowid table (rows only in its
-- leaves, written in order), and `events` keeps a ~60-byte entry per event.
--
-- Large documents without personal data are stored packed (zstd against a fixed dictionary,
-- src/documents.rs). The personal fields of a payload are kept apart, as plain JSON text,
-- where a byte search of the database files can prove a deletion left nothing. Payloads moved
-- here from older rows stay plain JSON (whole, `personal` NULL); both forms are read.

CREATE TABLE event_bodies (
    body_pk  INTEGER PRIMARY KEY,
    payload  BLOB NOT NULL,
    personal TEXT
);

CREATE TABLE events_compact (
    app_pk      INTEGER NOT NULL,
    profile_id  BLOB NOT NULL,
    event_seq   INTEGER NOT NULL,
    event_id    BLOB NOT NULL,
    event_type  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    reissued    INTEGER NOT NULL,
    body_pk     INTEGER NOT NULL,
    PRIMARY KEY (app_pk, profile_id, event_seq)
) WITHOUT ROWID;

-- (app_pk, event_seq) is unique, so both numberings below agree row for row.
INSERT INTO event_bodies (body_pk, payload)
SELECT ROW_NUMBER() OVER (ORDER BY app_pk, event_seq), payload FROM events;

INSERT INTO events_compact
    (app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued, body_pk)
SELECT app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued,
       ROW_NUMBER() OVER (ORDER BY app_pk, event_seq)
  FROM events;

DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;

-- The feed, newest first.
CREATE UNIQUE INDEX events_feed ON events (app_pk, event_seq);
