-- mark_failed: an event EventBridge refused: its error, one more attempt, and the next after a
-- capped, jittered backoff.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: error, event_id.
UPDATE outbox SET next_attempt_at=(now() + least(900, 5 * power(2, outbox.attempts)) * (0.5 + random() / CAST(2 AS NUMERIC)) * interval '1 second'), attempts=(outbox.attempts + 1), last_error=%(error)s::VARCHAR WHERE outbox.id = %(event_id)s::UUID AND outbox.sent_at IS NULL
