-- get_interview: GET /interviews/{interviewId}: the interview, if its job info is the caller's.
-- A read: one round trip (jobprep.db.reads).
-- Binds: interview_id, owner_id.
SELECT interviews.id, interviews.job_info_id, interviews.duration, interviews.hume_chat_id, interviews.feedback, interviews.version, interviews.created_at, interviews.updated_at
FROM interviews JOIN job_infos ON interviews.job_info_id = job_infos.id
WHERE interviews.id = %(interview_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR
