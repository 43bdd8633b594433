-- purge_sent_events: housekeeping: sent events older than the retention.
-- Run by the outbox relay and housekeeping (jobprep.relay), or for a failed inline publish.
-- Binds: older_than_seconds.
DELETE FROM outbox WHERE outbox.sent_at < now() - %(older_than_seconds)s::INTEGER * interval '1 second'
