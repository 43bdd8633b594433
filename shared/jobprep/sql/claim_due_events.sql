-- claim_due_events: the relay's next batch: due rows, oldest first, locked for this run; rows
-- another run holds are skipped. With retry_early (EventBridge has just accepted a whole batch)
-- failed rows still in backoff come too.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: retry_early, batch_size.
SELECT outbox.id, outbox.source, outbox.detail_type, outbox.detail
FROM outbox
WHERE outbox.sent_at IS NULL AND (outbox.next_attempt_at <= now() OR %(retry_early)s AND outbox.attempts > 0) ORDER BY outbox.next_attempt_at
 LIMIT %(batch_size)s::INTEGER FOR UPDATE SKIP LOCKED
