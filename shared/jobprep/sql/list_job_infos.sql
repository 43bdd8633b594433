-- list_job_infos: GET /job-infos: a page of the caller's job infos, most recently updated first
-- (then id).
-- A read: one round trip (jobprep.db.reads).
-- Binds: owner_id, after_at, after_id, page_rows.
SELECT job_infos.id, job_infos.name, job_infos.title, job_infos.experience_level, job_infos.description, job_infos.version, job_infos.created_at, job_infos.updated_at
FROM job_infos
WHERE job_infos.user_id = %(owner_id)s::VARCHAR AND (job_infos.updated_at, job_infos.id) < (%(after_at)s::TIMESTAMP WITH TIME ZONE, %(after_id)s::UUID) ORDER BY job_infos.updated_at DESC, job_infos.id DESC
 LIMIT %(page_rows)s::INTEGER
