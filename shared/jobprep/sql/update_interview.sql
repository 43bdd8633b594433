-- update_interview: PATCH /interviews/{interviewId}: the fields named, If-Match, humeChatId set
-- once (its first one spends a unit of the plan, refused when none is left), no feedback before it
-- is set, InterviewUpdated when a value changed.
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: sent_event_ids, interview_id, owner_id, if_match, set_hume_chat_id, new_hume_chat_id,
-- plan_limit, set_duration, new_duration, set_feedback, new_feedback, event_id, occurred_at,
-- outbox_grace_seconds.
WITH
-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- the caller's row as this statement's snapshot sees it (none: 404)
current AS
(SELECT interviews.id AS id, interviews.job_info_id AS job_info_id, interviews.duration AS duration, interviews.hume_chat_id AS hume_chat_id, interviews.feedback AS feedback, interviews.version AS version, interviews.created_at AS created_at, interviews.updated_at AS updated_at
FROM interviews JOIN job_infos ON interviews.job_info_id = job_infos.id
WHERE interviews.id = %(interview_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR FOR UPDATE OF interviews),

-- one unit of the caller's plan spent (plan_usage.interviews + 1), only if the plan allows one more
spent_interviews AS
(INSERT INTO plan_usage (user_id, interviews) SELECT %(owner_id)s::VARCHAR AS user_id, 1 AS interviews
FROM current
WHERE (%(if_match)s::INTEGER[] IS NULL OR current.version = ANY (%(if_match)s::INTEGER[])) AND %(set_hume_chat_id)s AND %(new_hume_chat_id)s::VARCHAR IS NOT NULL AND current.hume_chat_id IS NULL AND (%(plan_limit)s::INTEGER IS NULL OR 0 < %(plan_limit)s::INTEGER) ON CONFLICT (user_id) DO UPDATE SET interviews = (plan_usage.interviews + 1), updated_at = now() WHERE %(plan_limit)s::INTEGER IS NULL OR plan_usage.interviews < %(plan_limit)s::INTEGER RETURNING plan_usage.interviews),

-- the change, made only if If-Match holds and some value differs
updated AS
(UPDATE interviews SET duration=CASE WHEN %(set_duration)s THEN %(new_duration)s::VARCHAR ELSE interviews.duration END, hume_chat_id=CASE WHEN %(set_hume_chat_id)s THEN %(new_hume_chat_id)s::VARCHAR ELSE interviews.hume_chat_id END, feedback=CASE WHEN %(set_feedback)s THEN %(new_feedback)s::VARCHAR ELSE interviews.feedback END, version=(interviews.version + 1), updated_at=now() WHERE interviews.id = (SELECT current.id
FROM current) AND (%(if_match)s::INTEGER[] IS NULL OR interviews.version = ANY (%(if_match)s::INTEGER[])) AND (%(set_duration)s AND interviews.duration IS DISTINCT FROM %(new_duration)s::VARCHAR OR %(set_hume_chat_id)s AND interviews.hume_chat_id IS DISTINCT FROM %(new_hume_chat_id)s::VARCHAR OR %(set_feedback)s AND interviews.feedback IS DISTINCT FROM %(new_feedback)s::VARCHAR) AND NOT (%(set_hume_chat_id)s AND interviews.hume_chat_id IS NOT NULL AND interviews.hume_chat_id IS DISTINCT FROM %(new_hume_chat_id)s::VARCHAR) AND NOT (%(set_feedback)s AND %(new_feedback)s::VARCHAR IS NOT NULL AND CASE WHEN %(set_hume_chat_id)s THEN %(new_hume_chat_id)s::VARCHAR ELSE interviews.hume_chat_id END IS NULL) AND NOT (%(set_hume_chat_id)s AND %(new_hume_chat_id)s::VARCHAR IS NOT NULL AND interviews.hume_chat_id IS NULL AND NOT (EXISTS (SELECT spent_interviews.interviews
FROM spent_interviews))) RETURNING interviews.id, interviews.job_info_id, interviews.duration, interviews.hume_chat_id, interviews.feedback, interviews.version, interviews.created_at, interviews.updated_at),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.interviews' AS source, 'InterviewUpdated' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', updated.id, 'userId', %(owner_id)s::VARCHAR, 'jobInfoId', updated.job_info_id, 'tags', jsonb_build_array('global:interviews', concat('jobInfo:', updated.job_info_id, ':interviews'), concat('id:', updated.id, ':interviews'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM updated RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT updated.id, updated.job_info_id, updated.duration, updated.hume_chat_id, updated.feedback, updated.version, updated.created_at, updated.updated_at, true AS written, false AS wanted, NULL AS refused, event.event_id, event.event_source, event.event_detail_type, event.event_detail
FROM updated JOIN event ON true UNION ALL SELECT current.id, current.job_info_id, current.duration, current.hume_chat_id, current.feedback, current.version, current.created_at, current.updated_at, false AS written, %(set_duration)s AND current.duration IS DISTINCT FROM %(new_duration)s::VARCHAR OR %(set_hume_chat_id)s AND current.hume_chat_id IS DISTINCT FROM %(new_hume_chat_id)s::VARCHAR OR %(set_feedback)s AND current.feedback IS DISTINCT FROM %(new_feedback)s::VARCHAR AS wanted, CASE WHEN (%(set_hume_chat_id)s AND current.hume_chat_id IS NOT NULL AND current.hume_chat_id IS DISTINCT FROM %(new_hume_chat_id)s::VARCHAR) THEN 'HUME_CHAT_ID_WRITE_ONCE' WHEN (%(set_feedback)s AND %(new_feedback)s::VARCHAR IS NOT NULL AND CASE WHEN %(set_hume_chat_id)s THEN %(new_hume_chat_id)s::VARCHAR ELSE current.hume_chat_id END IS NULL) THEN 'INTERVIEW_NOT_COMPLETED' WHEN (%(set_hume_chat_id)s AND %(new_hume_chat_id)s::VARCHAR IS NOT NULL AND current.hume_chat_id IS NULL AND NOT (EXISTS (SELECT spent_interviews.interviews
FROM spent_interviews))) THEN 'PLAN_LIMIT' ELSE NULL END AS refused, NULL AS event_id, NULL AS event_source, NULL AS event_detail_type, NULL AS event_detail
FROM current
WHERE NOT (EXISTS (SELECT updated.id
FROM updated))
