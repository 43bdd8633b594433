-- purge_webhook_deliveries: housekeeping: webhook delivery ids kept longer than the sender retries
-- a message.
-- Run by the outbox relay and housekeeping (jobprep.relay), or for a failed inline publish.
-- Binds: older_than_seconds.
DELETE FROM webhook_deliveries WHERE webhook_deliveries.received_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
