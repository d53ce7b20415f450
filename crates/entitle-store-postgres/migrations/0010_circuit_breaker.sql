-- Each webhook integration's circuit (spec §9.6): since when its attempts have all failed, or
-- NULL while the last answered. A claim gives up due retries to an integration failing for
-- longer than a day; first attempts are still made, and one that is answered closes it.
ALTER TABLE integrations ADD COLUMN failing_since BIGINT;
