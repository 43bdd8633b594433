-- delete_interview: DELETE /interviews/{interviewId}: the interview, If-Match, InterviewDeleted;
-- the plan's unit it spent stays spent (plan_usage is not touched).
-- A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its
-- event published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this
-- container's earlier events EventBridge accepted (none: an empty list).
-- Binds: sent_event_ids, interview_id, owner_id, if_match, event_id, occurred_at,
-- outbox_grace_seconds.
WITH
-- this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay holds are skipped, not waited for
sent_receipts AS
(UPDATE outbox SET attempts=(outbox.attempts + 1), sent_at=now() WHERE outbox.id IN (SELECT receipt.id
FROM outbox AS receipt
WHERE receipt.id = ANY (%(sent_event_ids)s::UUID[]) AND receipt.sent_at IS NULL FOR UPDATE SKIP LOCKED)),

-- the caller's row as this statement's snapshot sees it (none: 404)
current AS
(SELECT interviews.id AS id, interviews.job_info_id AS job_info_id, interviews.version AS version
FROM interviews JOIN job_infos ON interviews.job_info_id = job_infos.id
WHERE interviews.id = %(interview_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR),

-- the delete, made only if If-Match holds
deleted AS
(DELETE FROM interviews WHERE interviews.id = (SELECT current.id
FROM current) AND (%(if_match)s::INTEGER[] IS NULL OR interviews.version = ANY (%(if_match)s::INTEGER[])) RETURNING interviews.id, interviews.job_info_id, interviews.version),

-- the invalidation event, in the outbox, written by the same statement as the change
event AS
(INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) SELECT %(event_id)s::UUID AS id, 'job-prep.interviews' AS source, 'InterviewDeleted' AS detail_type, jsonb_build_object('eventId', CAST(%(event_id)s::UUID AS VARCHAR), 'occurredAt', %(occurred_at)s::VARCHAR, 'id', deleted.id, 'userId', %(owner_id)s::VARCHAR, 'jobInfoId', deleted.job_info_id, 'tags', jsonb_build_array('global:interviews', concat('jobInfo:', deleted.job_info_id, ':interviews'), concat('id:', deleted.id, ':interviews'))) AS detail, now() + %(outbox_grace_seconds)s::INTEGER * interval '1 second' AS next_attempt_at
FROM deleted RETURNING outbox.id AS event_id, outbox.source AS event_source, outbox.detail_type AS event_detail_type, outbox.detail AS event_detail)
 SELECT deleted.id, deleted.job_info_id, deleted.version, true AS written, false AS wanted, event.event_id, event.event_source, event.event_detail_type, event.event_detail
FROM deleted JOIN event ON true UNION ALL SELECT current.id, current.job_info_id, current.version, false AS written, true AS wanted, NULL AS event_id, NULL AS event_source, NULL AS event_detail_type, NULL AS event_detail
FROM current
WHERE NOT (EXISTS (SELECT deleted.id
FROM deleted))
