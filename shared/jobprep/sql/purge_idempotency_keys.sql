-- purge_idempotency_keys: housekeeping: Idempotency-Keys older than their time to live.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: older_than_seconds.
DELETE FROM idempotency_keys WHERE idempotency_keys.created_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
