-- upsert_user: Clerk's user.created / user.updated: the user inserted or updated unless the stored
-- profile is as new or the account was deleted, UserUpserted when it was written, and the
-- delivery's record.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: sent_event_ids, delivery_id, delivery_type, owner_id, name, email, image_url,
-- clerk_created_at, clerk_updated_at, event_id, occurred_at, outbox_grace_seconds.
WITH
-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- the webhook delivery's id, recorded: one row the first time, none for a repeat
recorded AS
(INSERT INTO webhook_deliveries (id, event_type) SELECT %(delivery_id)s::VARCHAR AS id, %(delivery_type)s::VARCHAR AS event_type ON CONFLICT (id) DO NOTHING RETURNING webhook_deliveries.id),

-- the user, inserted or updated with a newer profile (an older one, a tombstoned id or a repeated delivery writes nothing)
upserted AS
(INSERT INTO users (id, name, email, image_url, created_at, updated_at) SELECT %(owner_id)s::VARCHAR AS id, %(name)s::VARCHAR AS name, %(email)s::VARCHAR AS email, %(image_url)s::VARCHAR AS image_url, %(clerk_created_at)s::TIMESTAMP WITH TIME ZONE AS created_at, %(clerk_updated_at)s::TIMESTAMP WITH TIME ZONE AS updated_at
WHERE (EXISTS (SELECT recorded.id
FROM recorded)) AND NOT (EXISTS (SELECT deleted_users.id
FROM deleted_users
WHERE deleted_users.id = %(owner_id)s::VARCHAR)) ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, image_url = excluded.image_url, created_at = excluded.created_at, updated_at = excluded.updated_at WHERE users.updated_at < excluded.updated_at RETURNING users.id),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.users' AS source, 'UserUpserted' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', upserted.id, 'userId', upserted.id, 'tags', jsonb_build_array('global:users', concat('id:', upserted.id, ':users'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM upserted RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT (SELECT count(*) AS rows
FROM recorded) AS recorded, EXISTS (SELECT deleted_users.id
FROM deleted_users
WHERE deleted_users.id = %(owner_id)s::VARCHAR) AS tombstoned, (SELECT count(*) AS rows
FROM upserted) AS written, (SELECT event.event_id
FROM event) AS event_id, (SELECT event.event_source
FROM event) AS event_source, (SELECT event.event_detail_type
FROM event) AS event_detail_type, (SELECT event.event_detail
FROM event) AS event_detail
