-- update_job_info: PATCH /job-infos/{jobInfoId}: the fields named, If-Match, JobInfoUpdated when a
-- value changed.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: sent_event_ids, job_info_id, owner_id, set_name, new_name, set_title, new_title,
-- set_experience_level, new_experience_level, set_description, new_description, if_match,
-- event_id, occurred_at, outbox_grace_seconds.
WITH
-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- the caller's row as this statement's snapshot sees it (none: 404)
current AS
(SELECT job_infos.id AS id, job_infos.name AS name, job_infos.title AS title, job_infos.experience_level AS experience_level, job_infos.description AS description, job_infos.version AS version, job_infos.created_at AS created_at, job_infos.updated_at AS updated_at
FROM job_infos
WHERE job_infos.id = %(job_info_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR),

-- the change, made only if If-Match holds and some value differs
updated AS
(UPDATE job_infos SET name=CASE WHEN %(set_name)s THEN %(new_name)s::VARCHAR ELSE job_infos.name END, title=CASE WHEN %(set_title)s THEN %(new_title)s::VARCHAR ELSE job_infos.title END, experience_level=CASE WHEN %(set_experience_level)s THEN %(new_experience_level)s ELSE job_infos.experience_level END, description=CASE WHEN %(set_description)s THEN %(new_description)s::VARCHAR ELSE job_infos.description END, version=(job_infos.version + 1), updated_at=now() WHERE job_infos.id = (SELECT current.id
FROM current) AND (%(if_match)s::INTEGER[] IS NULL OR job_infos.version = ANY (%(if_match)s::INTEGER[])) AND (%(set_name)s AND job_infos.name IS DISTINCT FROM %(new_name)s::VARCHAR OR %(set_title)s AND job_infos.title IS DISTINCT FROM %(new_title)s::VARCHAR OR %(set_experience_level)s AND job_infos.experience_level IS DISTINCT FROM %(new_experience_level)s OR %(set_description)s AND job_infos.description IS DISTINCT FROM %(new_description)s::VARCHAR) RETURNING job_infos.id, job_infos.name, job_infos.title, job_infos.experience_level, job_infos.description, job_infos.version, job_infos.created_at, job_infos.updated_at),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.job-infos' AS source, 'JobInfoUpdated' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', updated.id, 'userId', %(owner_id)s::VARCHAR, 'tags', jsonb_build_array('global:jobInfos', concat('user:', %(owner_id)s::VARCHAR, ':jobInfos'), concat('id:', updated.id, ':jobInfos'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM updated RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT updated.id, updated.name, updated.title, updated.experience_level, updated.description, updated.version, updated.created_at, updated.updated_at, true AS written, false AS wanted, event.event_id, event.event_source, event.event_detail_type, event.event_detail
FROM updated JOIN event ON true UNION ALL SELECT current.id, current.name, current.title, current.experience_level, current.description, current.version, current.created_at, current.updated_at, false AS written, %(set_name)s AND current.name IS DISTINCT FROM %(new_name)s::VARCHAR OR %(set_title)s AND current.title IS DISTINCT FROM %(new_title)s::VARCHAR OR %(set_experience_level)s AND current.experience_level IS DISTINCT FROM %(new_experience_level)s OR %(set_description)s AND current.description IS DISTINCT FROM %(new_description)s::VARCHAR AS wanted, NULL AS event_id, NULL AS event_source, NULL AS event_detail_type, NULL AS event_detail
FROM current
WHERE NOT (EXISTS (SELECT updated.id
FROM updated))
