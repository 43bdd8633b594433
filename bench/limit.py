"""The limit: raw psycopg on one reused connection, each operation ONE statement in autocommit,
so one waited round trip, and nothing else on the client (no validation, no framework, no JSON
response). Written against the schema of shared/jobprep/migrations/versions/0001_initial.py.

Writes are data-modifying CTEs: the change and its outbox row (the invalidation event, built by
PostgreSQL) commit together. The event is handed to the same EventBridge stand-in ours uses;
there is no mark-sent (ours must not wait for one either). Create interview is the
unlimited-plan path: ownership check, rate-limit token, interview and outbox row at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from bench.eventbridge import STUB

Call = Callable[[int], Any]

_JOB_INFO = "id, name, title, experience_level, description, version, created_at, updated_at"
_INTERVIEW = "id, job_info_id, duration, hume_chat_id, feedback, version, created_at, updated_at"
_GRACE = "now() + interval '30 seconds'"  # the relay's head start (jobprep's INLINE_GRACE_SECONDS)


def _job_info_event(detail_type: str, cte: str) -> str:
    return f"""
    ev AS (
        INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at)
        SELECT %(event_id)s, 'job-prep.job-infos', '{detail_type}', jsonb_build_object(
            'eventId', %(event_id)s::text, 'occurredAt', now(), 'id', {cte}.id, 'userId', %(user_id)s::text,
            'tags', jsonb_build_array(
                'global:jobInfos', 'user:' || %(user_id)s || ':jobInfos', 'id:' || {cte}.id || ':jobInfos')),
            {_GRACE}
        FROM {cte}
        RETURNING detail_type, detail
    )"""


CREATE = f"""
WITH ins AS (
    INSERT INTO job_infos (user_id, name, title, experience_level, description)
    VALUES (%(user_id)s, %(name)s, %(title)s, %(experience_level)s, %(description)s)
    RETURNING {_JOB_INFO}
), {_job_info_event("JobInfoCreated", "ins")}
SELECT ins.*, ev.detail_type, ev.detail FROM ins CROSS JOIN ev
"""

UPDATE = f"""
WITH upd AS (
    UPDATE job_infos SET name = %(name)s, version = version + 1, updated_at = now()
    WHERE id = %(job_info_id)s AND user_id = %(user_id)s
    RETURNING {_JOB_INFO}
), {_job_info_event("JobInfoUpdated", "upd")}
SELECT upd.*, ev.detail_type, ev.detail FROM upd CROSS JOIN ev
"""

GET = f"SELECT {_JOB_INFO} FROM job_infos WHERE id = %(job_info_id)s AND user_id = %(user_id)s"

# The token bucket of jobprep.rate_limit (continuous refill, capacity cap), as one upsert that only
# runs for an owned job info; the interview is inserted only if a token was taken. The first
# column tells 404 (not owned) from 429 (no token) when no interview comes back.
_REFILLED = (
    "LEAST(%(capacity)s::float8, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - b.refilled_at)) * %(per_second)s)"
)
CREATE_INTERVIEW = f"""
WITH owned AS (
    SELECT id FROM job_infos WHERE id = %(job_info_id)s AND user_id = %(user_id)s
), token AS (
    INSERT INTO rate_limit_buckets AS b (user_id, bucket, tokens, refilled_at)
    SELECT %(user_id)s, 'create_interview', %(capacity)s - 1, now() FROM owned
    ON CONFLICT (user_id, bucket) DO UPDATE
        SET tokens = {_REFILLED} - 1, refilled_at = GREATEST(b.refilled_at, now())
        WHERE {_REFILLED} >= 1
    RETURNING tokens
), ins AS (
    INSERT INTO interviews (job_info_id, duration, hume_chat_id)
    SELECT owned.id, %(duration)s, %(hume_chat_id)s FROM owned CROSS JOIN token
    RETURNING {_INTERVIEW}
), ev AS (
    INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at)
    SELECT %(event_id)s, 'job-prep.interviews', 'InterviewCreated', jsonb_build_object(
        'eventId', %(event_id)s::text, 'occurredAt', now(), 'id', ins.id, 'userId', %(user_id)s::text,
        'jobInfoId', ins.job_info_id, 'tags', jsonb_build_array(
            'global:interviews', 'jobInfo:' || ins.job_info_id || ':interviews', 'id:' || ins.id || ':interviews')),
        {_GRACE}
    FROM ins
    RETURNING detail_type, detail
)
SELECT EXISTS (SELECT FROM owned) AS owned, ins.*, ev.detail_type, ev.detail
FROM (SELECT) AS one LEFT JOIN (ins CROSS JOIN ev) ON true
"""


class Limit:
    """The four operations on one connection opened once (same URL, TLS and proxy as ours)."""

    def __init__(self, url: str, user_id: str, capacity: int, refill_per_day: float) -> None:
        # No server-side prepared statements, as ours (RDS Proxy / PgBouncer safe).
        self.conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)
        self.user_id = user_id
        self.rate = {"capacity": capacity, "per_second": refill_per_day / 86_400}

    def close(self) -> None:
        self.conn.close()

    def _one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        row = self.conn.execute(sql, params).fetchone()
        if row is None:
            raise AssertionError("the limit statement returned no row")
        return row

    def _publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        STUB.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}])

    def calls(self, body: dict[str, Any], job_info_id: str, renames: list[str]) -> dict[str, Call]:
        user_id = self.user_id
        create_params = {
            "user_id": user_id,
            "name": body["name"],
            "title": body.get("title"),
            "experience_level": body["experienceLevel"],
            "description": body["description"],
        }

        def create(_i: int) -> Any:
            row = self._one(CREATE, {**create_params, "event_id": uuid.uuid4()})
            self._publish("job-prep.job-infos", row[-2], row[-1])
            return row

        def update(i: int) -> Any:
            params = {"name": renames[i % len(renames)], "job_info_id": job_info_id, "user_id": user_id}
            row = self._one(UPDATE, {**params, "event_id": uuid.uuid4()})
            self._publish("job-prep.job-infos", row[-2], row[-1])
            return row

        def get(_i: int) -> Any:
            return self._one(GET, {"job_info_id": job_info_id, "user_id": user_id})

        def create_interview(_i: int) -> Any:
            params = {"job_info_id": job_info_id, "user_id": user_id, "duration": "00:00:00", "hume_chat_id": None}
            row = self._one(CREATE_INTERVIEW, {**params, **self.rate, "event_id": uuid.uuid4()})
            if row[1] is None:
                raise AssertionError("not found" if not row[0] else "rate limited")
            self._publish("job-prep.interviews", row[-2], row[-1])
            return row

        return {"create": create, "update": update, "get": get, "create_interview": create_interview}
