-- delete_user_data: Clerk's user.deleted: every row of the user (job infos and, by cascade, their
-- interviews and questions; Idempotency-Keys; rate-limit buckets; plan usage; the profile), the
-- account's tombstone, the UserDataDeleted event(s) and the delivery's record.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: sent_event_ids, delivery_id, delivery_type, owner_id, event_id, occurred_at,
-- outbox_grace_seconds.
WITH
-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- the webhook delivery's id, recorded: one row the first time, none for a repeat
recorded AS
(INSERT INTO webhook_deliveries (id, event_type) SELECT %(delivery_id)s::VARCHAR AS id, %(delivery_type)s::VARCHAR AS event_type ON CONFLICT (id) DO NOTHING RETURNING webhook_deliveries.id),

-- the user's job infos, deleted (a repeated delivery deletes nothing)
deleted_job_infos AS
(DELETE FROM job_infos WHERE job_infos.user_id = %(owner_id)s::VARCHAR AND (EXISTS (SELECT recorded.id
FROM recorded)) RETURNING job_infos.id),

-- the interviews ON DELETE CASCADE removes with the deleted job infos, as the snapshot still holds them
cascaded AS
(SELECT interviews.id AS id
FROM interviews
WHERE interviews.job_info_id IN (SELECT deleted_job_infos.id
FROM deleted_job_infos)),

-- the user's Idempotency-Keys, deleted (a repeated delivery deletes nothing)
deleted_keys AS
(DELETE FROM idempotency_keys WHERE idempotency_keys.user_id = %(owner_id)s::VARCHAR AND (EXISTS (SELECT recorded.id
FROM recorded)) RETURNING idempotency_keys.key),

-- the user's rate-limit buckets, deleted (a repeated delivery deletes nothing)
deleted_buckets AS
(DELETE FROM rate_limit_buckets WHERE rate_limit_buckets.user_id = %(owner_id)s::VARCHAR AND (EXISTS (SELECT recorded.id
FROM recorded)) RETURNING rate_limit_buckets.bucket),

-- the questions ON DELETE CASCADE removes with the deleted job infos, as the snapshot still holds them
cascaded_questions AS
(SELECT questions.id AS id, questions.job_info_id AS job_info_id
FROM questions
WHERE questions.job_info_id IN (SELECT deleted_job_infos.id
FROM deleted_job_infos)),

-- the user's plan usage, deleted (a repeated delivery deletes nothing)
deleted_usage AS
(DELETE FROM plan_usage WHERE plan_usage.user_id = %(owner_id)s::VARCHAR AND (EXISTS (SELECT recorded.id
FROM recorded)) RETURNING plan_usage.user_id),

-- the user's profile (the users row), deleted (a repeated delivery deletes nothing)
deleted_user AS
(DELETE FROM users WHERE users.id = %(owner_id)s::VARCHAR AND (EXISTS (SELECT recorded.id
FROM recorded)) RETURNING users.id),

-- the account's tombstone: a user.created / user.updated delivered after this never brings it back
tombstone AS
(INSERT INTO deleted_users (id) SELECT %(owner_id)s::VARCHAR AS id
WHERE EXISTS (SELECT recorded.id
FROM recorded) ON CONFLICT (id) DO NOTHING RETURNING deleted_users.id),

-- one row per cache tag to invalidate: the user's lists, each job info's, each interview's, each question's, then the user's own
tags AS
(SELECT 0 AS ord, 'global:jobInfos' AS tag
WHERE EXISTS (SELECT deleted_job_infos.id
FROM deleted_job_infos) UNION ALL SELECT 1, concat('user:', %(owner_id)s::VARCHAR, ':jobInfos') AS tag
WHERE EXISTS (SELECT deleted_job_infos.id
FROM deleted_job_infos) UNION ALL SELECT 2, concat('id:', deleted_job_infos.id, ':jobInfos') AS tag
FROM deleted_job_infos UNION ALL SELECT 3, concat('jobInfo:', deleted_job_infos.id, ':interviews') AS tag
FROM deleted_job_infos UNION ALL SELECT 4, 'global:interviews' AS tag
WHERE EXISTS (SELECT cascaded.id
FROM cascaded) UNION ALL SELECT 5, concat('id:', cascaded.id, ':interviews') AS tag
FROM cascaded UNION ALL SELECT 6, 'global:questions' AS tag
WHERE EXISTS (SELECT cascaded_questions.id
FROM cascaded_questions) UNION ALL SELECT DISTINCT 7, concat('jobInfo:', cascaded_questions.job_info_id, ':questions') AS tag
FROM cascaded_questions UNION ALL SELECT 8, concat('id:', cascaded_questions.id, ':questions') AS tag
FROM cascaded_questions UNION ALL SELECT 9, 'global:users' AS tag
WHERE EXISTS (SELECT deleted_user.id
FROM deleted_user) UNION ALL SELECT 10, concat('id:', %(owner_id)s::VARCHAR, ':users') AS tag
WHERE EXISTS (SELECT deleted_user.id
FROM deleted_user)),

-- the tags in a stable order, cut into parts of 400 (one event each)
numbered AS
(SELECT tags.tag AS tag, row_number() OVER (ORDER BY tags.ord, tags.tag) - 1 AS n, FLOOR((row_number() OVER (ORDER BY tags.ord, tags.tag) - 1) / 400) AS part
FROM tags),

-- one UserDataDeleted per part: the first with the statement's event id, the others with new ones
parts AS
(SELECT CASE WHEN (numbered.part = 0) THEN %(event_id)s::UUID ELSE gen_random_uuid() END AS event_id, jsonb_agg(numbered.tag ORDER BY numbered.n) AS tags
FROM numbered GROUP BY numbered.part),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT parts.event_id AS id, 'job-prep.users' AS source, 'UserDataDeleted' AS detail_type, jsonb_build_object('eventId', CAST(parts.event_id AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', %(owner_id)s::VARCHAR, 'userId', %(owner_id)s::VARCHAR, 'tags', parts.tags) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM parts RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT (SELECT count(*) AS rows
FROM recorded) AS recorded, (SELECT count(*) AS rows
FROM deleted_job_infos) AS job_infos, (SELECT count(*) AS rows
FROM cascaded) AS interviews, (SELECT count(*) AS rows
FROM deleted_keys) AS idempotency_keys, (SELECT count(*) AS rows
FROM deleted_buckets) AS rate_limit_buckets, (SELECT count(*) AS rows
FROM cascaded_questions) AS questions, (SELECT count(*) AS rows
FROM deleted_usage) AS plan_usage, (SELECT count(*) AS rows
FROM deleted_user) AS users, (SELECT count(*) AS rows
FROM tombstone) AS tombstones, (SELECT count(*) AS rows
FROM event) AS events, (SELECT jsonb_agg(jsonb_build_object('id', event.event_id, 'detail', event.event_detail)) AS events
FROM event
WHERE event.event_id != %(event_id)s::UUID) AS more_events, (SELECT event.event_id
FROM event
WHERE event.event_id = %(event_id)s::UUID) AS event_id, (SELECT event.event_source
FROM event
WHERE event.event_id = %(event_id)s::UUID) AS event_source, (SELECT event.event_detail_type
FROM event
WHERE event.event_id = %(event_id)s::UUID) AS event_detail_type, (SELECT event.event_detail
FROM event
WHERE event.event_id = %(event_id)s::UUID) AS event_detail
