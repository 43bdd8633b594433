-- get_question: GET /questions/{questionId}: the question, if its job info is the caller's.
-- A read: one round trip (jobprep.db.reads).
-- Binds: question_id, owner_id.
SELECT questions.id, questions.job_info_id, questions.text, questions.difficulty, questions.version, questions.created_at, questions.updated_at
FROM questions JOIN job_infos ON questions.job_info_id = job_infos.id
WHERE questions.id = %(question_id)s::UUID AND job_infos.user_id = %(owner_id)s::VARCHAR
