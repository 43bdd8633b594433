-- purge_webhook_deliveries: housekeeping: webhook delivery ids kept longer than the sender retries
-- a message.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: older_than_seconds.
DELETE FROM webhook_deliveries WHERE webhook_deliveries.received_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
