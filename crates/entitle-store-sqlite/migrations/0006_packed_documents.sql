-- Large documents without personal data are stored packed (zstd against a fixed dictionary,
-- see src/documents.rs) so that a row stays on its page. The personal fields of an event's
-- payload move to a column of their own and stay plain JSON text. Rows written before this
-- migration keep their plain JSON (whole payload in `payload`, `personal` NULL); both are read.
ALTER TABLE events ADD COLUMN personal TEXT;
