-- When a grant or revoke next begins or ends access with no write (a grant's start or end, a
-- revoke taking effect): the worker announces the change then with `access_level_updated`
-- (spec §5.7, §7), as it announces the end of subscription periods.

ALTER TABLE access_overrides ADD COLUMN change_due_at INTEGER;

CREATE INDEX access_overrides_change_due ON access_overrides (change_due_at)
    WHERE change_due_at IS NOT NULL;

-- The overrides written before: their next change after now, from the stored times (read to
-- the millisecond; a change found a little early is put back to its exact time by the worker).
UPDATE access_overrides SET change_due_at = (
    SELECT MIN(at) FROM (
        SELECT CAST(ROUND(unixepoch(json_extract(body, '$.grant.starts_at'), 'subsec') * 1000) AS INTEGER) * 1000 AS at
        UNION ALL
        SELECT CAST(ROUND(unixepoch(json_extract(body, '$.grant.expires_at'), 'subsec') * 1000) AS INTEGER) * 1000
        UNION ALL
        SELECT CAST(ROUND(unixepoch(json_extract(body, '$.revoke.revoke_at'), 'subsec') * 1000) AS INTEGER) * 1000
    ) WHERE at > CAST(ROUND(unixepoch('now', 'subsec') * 1000) AS INTEGER) * 1000
);
