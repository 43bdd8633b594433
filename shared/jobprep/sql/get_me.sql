-- get_me: GET /me: the caller's profile (NULLs until Clerk's webhook has arrived), plan usage and
-- interview rate-limit bucket (whole tokens now, the next one's time), one row whatever exists.
-- A read: one round trip (jobprep.db.reads).
-- Binds: capacity, per_second, owner_id, bucket.
WITH
-- exactly one answer row, whatever happened
one AS
(SELECT 1 AS one)
 SELECT users.id, users.name, users.email, users.image_url, users.created_at, users.updated_at, coalesce(plan_usage.interviews, 0) AS interviews_used, coalesce(plan_usage.questions, 0) AS questions_used, CAST(floor(coalesce(least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s), %(capacity)s)) AS INTEGER) AS interview_tokens, CASE WHEN (floor(coalesce(least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s), %(capacity)s)) >= %(capacity)s) THEN NULL ELSE to_timestamp(ceil(EXTRACT(epoch FROM rate_limit_buckets.refilled_at + (((floor(coalesce(least(%(capacity)s, rate_limit_buckets.tokens + greatest(0, EXTRACT(epoch FROM now() - rate_limit_buckets.refilled_at)) * %(per_second)s), %(capacity)s)) + 1) - rate_limit_buckets.tokens) / CAST(%(per_second)s AS FLOAT)) * interval '1 second'))) END AS next_interview_token_at
FROM one LEFT OUTER JOIN users ON users.id = %(owner_id)s::VARCHAR LEFT OUTER JOIN plan_usage ON plan_usage.user_id = %(owner_id)s::VARCHAR LEFT OUTER JOIN rate_limit_buckets ON rate_limit_buckets.user_id = %(owner_id)s::VARCHAR AND rate_limit_buckets.bucket = %(bucket)s::VARCHAR
