-- purge_idempotency_keys: housekeeping: Idempotency-Keys older than their time to live.
-- Run by the outbox relay and housekeeping (jobprep.relay), or for a failed inline publish.
-- Binds: older_than_seconds.
DELETE FROM idempotency_keys WHERE idempotency_keys.created_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
