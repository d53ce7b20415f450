-- Small entries in every b-tree a lookup walks.
--
-- A WITHOUT ROWID table is an index b-tree, in which every entry is stored whole, interior
-- pages included. With rows of hundreds of bytes a 4 KiB interior page held a handful of them:
-- the trees were deep, and one profile's events, though adjacent in key order, spread over
-- half a dozen pages.
--
-- `events` keeps its key (app, profile, position), so a profile's events still leave in one
-- range delete, but only a ~60-byte entry per event; the payload lives in `event_bodies`, a
-- rowid table (rows only in its leaves, written in order).
--
-- (`profiles`, ~400 bytes a row once its documents are packed, stays WITHOUT ROWID: as a rowid
-- table with a unique (app, profile id) index its interior pages shrank, but a delete then
-- changes one more b-tree, and measured deletes were 15-20% slower at 100,000 and at 1,000,000
-- profiles alike; docs/performance.md.)
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
