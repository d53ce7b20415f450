-- An event dated ahead of its write takes the next feed position once its date has come, so
-- that it shows at the head of the feed then, not below events a reader has already passed
-- (`dated_ahead.rs`). The events still waiting for their date, found by it; every other event
-- has no entry here.

CREATE INDEX events_dated_ahead ON events (hidden_until) WHERE hidden_until IS NOT NULL;
