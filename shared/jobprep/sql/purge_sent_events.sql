-- purge_sent_events: housekeeping: sent events older than the retention.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: older_than_seconds.
DELETE FROM outbox WHERE outbox.sent_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
