-- delete_user_data: Clerk's user.deleted: every row of the user (job infos and, by cascade, their
-- interviews; Idempotency-Keys; rate-limit buckets), the UserDataDeleted event(s) and the
-- delivery's record.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. While this container holds the sent marks of earlier
-- events, the statement also carries them: the sent_receipts CTE (mark_sent.sql).
-- Binds: delivery_id, delivery_type, owner_id, event_id, occurred_at, outbox_grace_seconds.
WITH
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

-- one row per cache tag to invalidate: the user's lists, each job info's, then each interview's
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
FROM cascaded),

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
