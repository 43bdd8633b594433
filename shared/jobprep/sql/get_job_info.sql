-- get_job_info: GET /job-infos/{jobInfoId}: the caller's job info.
-- A read: one round trip (jobprep.db.reads).
-- Binds: job_info_id, owner_id.
SELECT job_infos.id, job_infos.name, job_infos.title, job_infos.experience_level, job_infos.description, job_infos.version, job_infos.created_at, job_infos.updated_at
FROM job_infos
WHERE job_infos.id = %(job_info_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR
