-- list_questions: GET /job-infos/{jobInfoId}/questions: a page of the job info's questions, oldest
-- first; the job info's row, left-joined to the page, tells 404 from an empty page.
-- A read: one round trip (jobprep.db.reads).
-- Binds: job_info_id, owner_id, after_at, after_id, page_rows.
WITH
-- the job info, if it is the caller's (none: 404, not an empty page)
job_info AS
(SELECT job_infos.id AS id
FROM job_infos
WHERE job_infos.id = %(job_info_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR)
 SELECT job_info.id AS job_info, items.id, items.job_info_id, items.text, items.difficulty, items.version, items.created_at, items.updated_at
FROM job_info LEFT OUTER JOIN LATERAL (SELECT questions.id AS id, questions.job_info_id AS job_info_id, questions.text AS text, questions.difficulty AS difficulty, questions.version AS version, questions.created_at AS created_at, questions.updated_at AS updated_at
FROM questions
WHERE questions.job_info_id = job_info.id AND (questions.created_at, questions.id) > (%(after_at)s::TIMESTAMP WITH TIME ZONE, %(after_id)s::UUID) ORDER BY questions.created_at ASC, questions.id ASC
 LIMIT %(page_rows)s::INTEGER) AS items ON true ORDER BY items.created_at, items.id
