-- mark_sent: events EventBridge accepted, marked sent (rows another transaction holds are skipped,
-- not waited for); also sent alone by a keep-warm ping. The sent_receipts CTE that change
-- statements carry is this UPDATE.
-- Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or
-- after a failed inline publish (jobprep.unit_of_work).
-- Binds: sent_event_ids.
UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)
