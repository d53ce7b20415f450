-- Events dated later than they were written (a renewal or trial conversion the store reported
-- ahead of time) stay out of the event feed until their date (spec §8.5, §9.8); deliveries do
-- not wait. NULL, one byte in the row, for every event that is shown at once.

ALTER TABLE events ADD COLUMN hidden_until INTEGER;
