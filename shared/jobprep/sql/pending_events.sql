-- pending_events: what the relay still owes (failed ones, and any past the inline grace) and the
-- age of the oldest.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: outbox_grace_seconds.
SELECT count(*) AS pending, coalesce(EXTRACT(epoch FROM now() - min(outbox.created_at)), 0) AS oldest
FROM outbox
WHERE outbox.sent_at IS NULL AND (outbox.attempts > 0 OR outbox.created_at < now() - %(outbox_grace_seconds)s::INTEGER * interval '1 second')
