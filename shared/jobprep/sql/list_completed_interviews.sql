-- list_completed_interviews: GET /job-infos/{jobInfoId}/interviews?completed=true: as
-- list_interviews, only the interviews that have a humeChatId.
-- A read: one round trip (jobprep.db.reads).
-- Binds: job_info_id, owner_id, after_at, after_id, page_rows.
WITH
-- the job info, if it is the caller's (none: 404, not an empty page)
job_info AS
(SELECT job_infos.id AS id
FROM job_infos
WHERE job_infos.id = %(job_info_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR)
 SELECT job_info.id AS job_info, items.id, items.job_info_id, items.duration, items.hume_chat_id, items.feedback, items.version, items.created_at, items.updated_at
FROM job_info LEFT OUTER JOIN LATERAL (SELECT interviews.id AS id, interviews.job_info_id AS job_info_id, interviews.duration AS duration, interviews.hume_chat_id AS hume_chat_id, interviews.feedback AS feedback, interviews.version AS version, interviews.created_at AS created_at, interviews.updated_at AS updated_at
FROM interviews
WHERE interviews.job_info_id = job_info.id AND interviews.hume_chat_id IS NOT NULL AND (interviews.updated_at, interviews.id) < (%(after_at)s::TIMESTAMP WITH TIME ZONE, %(after_id)s::UUID) ORDER BY interviews.updated_at DESC, interviews.id DESC
 LIMIT %(page_rows)s::INTEGER) AS items ON true ORDER BY items.updated_at DESC, items.id DESC
