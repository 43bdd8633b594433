-- create_job_info: POST /job-infos: the job info and JobInfoCreated, once per Idempotency-Key.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: owner_id, idempotency_key, name, title, experience_level, description, request_hash,
-- sent_event_ids, event_id, occurred_at, outbox_grace_seconds.
WITH
-- the Idempotency-Key's record, if this user sent the key before (no key: none)
prior AS
(SELECT idempotency_keys.operation AS prior_operation, idempotency_keys.request_hash AS prior_request_hash, idempotency_keys.response AS prior_response
FROM idempotency_keys
WHERE idempotency_keys.user_id = %(owner_id)s::VARCHAR AND idempotency_keys.key = %(idempotency_key)s::VARCHAR),

-- the new row, inserted only when no earlier request used the key and every check passed
created AS
(INSERT INTO job_infos (user_id, name, title, experience_level, description) SELECT %(owner_id)s::VARCHAR AS user_id, %(name)s::VARCHAR AS name, %(title)s::VARCHAR AS title, %(experience_level)s AS experience_level, %(description)s::VARCHAR AS description
WHERE NOT (EXISTS (SELECT prior.prior_operation
FROM prior)) RETURNING job_infos.id, job_infos.name, job_infos.title, job_infos.experience_level, job_infos.description, job_infos.version, job_infos.created_at, job_infos.updated_at),

-- the key's record: the created row, for a retry to get back
stored AS
(INSERT INTO idempotency_keys (user_id, key, operation, request_hash, status_code, response) SELECT %(owner_id)s::VARCHAR AS user_id, %(idempotency_key)s::VARCHAR AS key, 'create_job_info' AS operation, %(request_hash)s::VARCHAR AS request_hash, 201 AS status_code, to_jsonb(created) AS response
FROM created
WHERE %(idempotency_key)s::VARCHAR IS NOT NULL),

-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- exactly one answer row, whatever happened
one AS
(SELECT 1 AS one),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.job-infos' AS source, 'JobInfoCreated' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', created.id, 'userId', %(owner_id)s::VARCHAR, 'tags', jsonb_build_array('global:jobInfos', concat('user:', %(owner_id)s::VARCHAR, ':jobInfos'), concat('id:', created.id, ':jobInfos'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM created RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT created.id, created.name, created.title, created.experience_level, created.description, created.version, created.created_at, created.updated_at, event.event_id, event.event_source, event.event_detail_type, event.event_detail, prior.prior_operation, prior.prior_request_hash, prior.prior_response
FROM one LEFT OUTER JOIN created ON true LEFT OUTER JOIN event ON true LEFT OUTER JOIN prior ON true
