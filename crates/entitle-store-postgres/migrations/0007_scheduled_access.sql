-- When a grant or revoke next begins or ends access with no write (a grant's start or end, a
-- revoke taking effect): the worker announces the change then with `access_level_updated`
-- (spec §5.7, §7), as it announces the end of subscription periods.

ALTER TABLE access_overrides ADD COLUMN change_due_at BIGINT;

CREATE INDEX access_overrides_change_due ON access_overrides (change_due_at)
    WHERE change_due_at IS NOT NULL;

-- The overrides written before: their next change after now, from the stored times.
UPDATE access_overrides SET change_due_at = (
    SELECT MIN(at) FROM (
        SELECT (EXTRACT(EPOCH FROM (stored.value)::timestamptz) * 1000000)::bigint AS at
        FROM (VALUES (body::jsonb #>> '{grant,starts_at}'),
                     (body::jsonb #>> '{grant,expires_at}'),
                     (body::jsonb #>> '{revoke,revoke_at}')) AS stored(value)
        WHERE stored.value IS NOT NULL
    ) times
    WHERE at > (EXTRACT(EPOCH FROM now()) * 1000000)::bigint
);
