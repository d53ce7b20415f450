-- A deleted profile's id is never given out again (DESIGN.md §4: afterwards the profile is gone
-- for every endpoint, create by profile id included). The record keeps only a keyed hash of the
-- id; this index finds it by that hash.
CREATE INDEX deletion_records_by_profile ON deletion_records (app_pk, profile_hash);
