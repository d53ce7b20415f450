-- An event dated ahead of its write takes the next feed position once its date has come, so
-- that a reader paging from the newest event down to the last one it saw does not miss it
-- (`dated_ahead.rs`). The events still waiting for their date, found by it; every other event
-- has no entry here, so writing and deleting them costs nothing more.

CREATE INDEX events_dated_ahead ON events (hidden_until) WHERE hidden_until IS NOT NULL;
