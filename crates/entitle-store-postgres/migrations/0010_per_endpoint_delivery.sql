-- Deliveries are claimed per endpoint (integration), so that one slow to answer fills only its
-- own share of the workers' slots, and each endpoint has a circuit (spec §9.6).

-- Since when the integration's attempts have all failed, or NULL while the last was answered.
-- A claim gives up due retries to an integration failing for longer than a day; first attempts
-- are still made, and one that is answered closes the circuit.
ALTER TABLE integrations ADD COLUMN failing_since BIGINT;

-- An integration's due deliveries, oldest first (it also serves what the index it replaces
-- did: cancelling an integration's pending deliveries).
DROP INDEX deliveries_by_integration;
CREATE INDEX deliveries_due_by_integration ON deliveries (integration_pk, next_attempt_at)
    WHERE status = 'pending';

-- An integration's deliveries in flight (leased), to count them.
CREATE INDEX deliveries_leased ON deliveries (integration_pk, lease_until)
    WHERE lease_until IS NOT NULL;
