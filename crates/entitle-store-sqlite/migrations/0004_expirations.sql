-- When each chain's current subscription period ends, so its expiry can be announced at the
-- time it happens (not only when the store next reports on the chain).
ALTER TABLE chains ADD COLUMN expiry_due_at INTEGER;
CREATE INDEX chains_expiry_due ON chains (expiry_due_at) WHERE expiry_due_at IS NOT NULL;
