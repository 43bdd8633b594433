-- create_interview: POST /job-infos/{jobInfoId}/interviews: ownership, plan, rate limit, the
-- interview and InterviewCreated, once per Idempotency-Key.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: owner_id, idempotency_key, job_info_id, plan_limit, bucket, capacity, per_second,
-- hume_chat_id, duration, request_hash, sent_event_ids, event_id, occurred_at,
-- outbox_grace_seconds.
WITH
-- the Idempotency-Key's record, if this user sent the key before (no key: none)
prior AS
(SELECT idempotency_keys.operation AS prior_operation, idempotency_keys.request_hash AS prior_request_hash, idempotency_keys.response AS prior_response
FROM idempotency_keys
WHERE idempotency_keys.user_id = %(owner_id)s::VARCHAR AND idempotency_keys.key = %(idempotency_key)s::VARCHAR),

-- the job info, if it is the caller's (and no earlier request used the Idempotency-Key)
owner AS
(SELECT job_infos.id AS id
FROM job_infos
WHERE job_infos.id = %(job_info_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR AND NOT (EXISTS (SELECT prior.prior_operation
FROM prior))),

-- whether the caller's plan allows one more interview
plan AS
(SELECT %(plan_limit)s::INTEGER IS NULL OR coalesce((SELECT plan_usage.interviews
FROM plan_usage
WHERE plan_usage.user_id = %(owner_id)s::VARCHAR), 0) < %(plan_limit)s::INTEGER AS allowed),

-- one rate-limit token taken from the caller's bucket (created full), only if one is left
token AS
(INSERT INTO rate_limit_buckets (user_id, bucket, tokens, refilled_at) SELECT %(owner_id)s::VARCHAR AS user_id, %(bucket)s::VARCHAR AS bucket, %(capacity)s - 1 AS tokens, now() AS refilled_at
FROM owner
WHERE (SELECT plan.allowed
FROM plan) ON CONFLICT (user_id, bucket) DO UPDATE SET tokens = (least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s) - 1), refilled_at = greatest(rate_limit_buckets.refilled_at, now()) WHERE 1 <= least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s) RETURNING rate_limit_buckets.tokens),

-- one unit of the caller's plan spent (plan_usage.interviews + 1), only if the plan allows one more
spent_interviews AS
(INSERT INTO plan_usage (user_id, interviews) SELECT %(owner_id)s::VARCHAR AS user_id, 1 AS interviews
FROM token
WHERE %(hume_chat_id)s::VARCHAR IS NOT NULL AND (%(plan_limit)s::INTEGER IS NULL OR 0 < %(plan_limit)s::INTEGER) ON CONFLICT (user_id) DO UPDATE SET interviews = (plan_usage.interviews + 1), updated_at = now() WHERE %(plan_limit)s::INTEGER IS NULL OR plan_usage.interviews < %(plan_limit)s::INTEGER RETURNING plan_usage.interviews),

-- the new row, inserted only when no earlier request used the key and every check passed
created AS
(INSERT INTO interviews (job_info_id, duration, hume_chat_id) SELECT owner.id AS job_info_id, %(duration)s::VARCHAR AS duration, %(hume_chat_id)s::VARCHAR AS hume_chat_id
FROM owner JOIN token ON true
WHERE %(hume_chat_id)s::VARCHAR IS NULL OR (EXISTS (SELECT spent_interviews.interviews
FROM spent_interviews)) RETURNING interviews.id, interviews.job_info_id, interviews.duration, interviews.hume_chat_id, interviews.feedback, interviews.version, interviews.created_at, interviews.updated_at),

-- the key's record: the created row, for a retry to get back
stored AS
(INSERT INTO idempotency_keys (user_id, key, operation, request_hash, status_code, response) SELECT %(owner_id)s::VARCHAR AS user_id, %(idempotency_key)s::VARCHAR AS key, 'create_interview' AS operation, %(request_hash)s::VARCHAR AS request_hash, 201 AS status_code, to_jsonb(created) AS response
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
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.interviews' AS source, 'InterviewCreated' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', created.id, 'userId', %(owner_id)s::VARCHAR, 'jobInfoId', created.job_info_id, 'tags', jsonb_build_array('global:interviews', concat('jobInfo:', created.job_info_id, ':interviews'), concat('id:', created.id, ':interviews'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM created RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT EXISTS (SELECT owner.id
FROM owner) AS owned, (SELECT plan.allowed
FROM plan) AS allowed, EXISTS (SELECT token.tokens
FROM token) AS took_token, CAST(greatest(1, ceil((1 - coalesce((SELECT least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s) AS tokens
FROM rate_limit_buckets
WHERE rate_limit_buckets.user_id = %(owner_id)s::VARCHAR AND rate_limit_buckets.bucket = %(bucket)s::VARCHAR), 0)) / CAST(%(per_second)s AS FLOAT))) AS INTEGER) AS retry_after, created.id, created.job_info_id, created.duration, created.hume_chat_id, created.feedback, created.version, created.created_at, created.updated_at, event.event_id, event.event_source, event.event_detail_type, event.event_detail, prior.prior_operation, prior.prior_request_hash, prior.prior_response
FROM one LEFT OUTER JOIN created ON true LEFT OUTER JOIN event ON true LEFT OUTER JOIN prior ON true
