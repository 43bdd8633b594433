"""Concurrent containers: each thread gets its own connection (as each Lambda container has its
own), and calls the same logic functions the handlers call. Resolvers are per container, so
handlers themselves are never shared between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep.config import get_settings
from jobprep.db import engine as db
from jobprep.errors import PlanLimitReached, PreconditionFailed, RateLimited
from jobprep.interviews.schemas import InterviewCreate
from jobprep.interviews.service import create_interview
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoUpdate
from jobprep.job_infos.service import create_job_info, get_job_info, update_job_info
from jobprep.questions.schemas import QuestionCreate
from jobprep.questions.service import create_question
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient

T = TypeVar("T")
UNLIMITED = frozenset({"unlimited_interviews"})


@pytest.fixture
def containers(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Many containers at once: the same engine configuration, with a connection per thread.
    wide = db.build_engine(get_settings(), pool_size=64)
    monkeypatch.setattr(db, "engine", wide)
    yield
    wide.dispose()


def run_concurrently(n: int, work: Callable[[int], T]) -> list[T | BaseException]:
    barrier = threading.Barrier(n)
    results: list[T | BaseException] = [RuntimeError("did not finish")] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_50_concurrent_read_modify_write_updates_lose_nothing(
    containers: None, event_sink: EventSink, clean_db: Engine
) -> None:
    job = create_job_info(
        "alice", JobInfoCreate.model_validate({"name": "n", "experienceLevel": "junior", "description": "-"})
    )
    job_id = job.resource.id
    attempts = [0] * 50

    def append_line(i: int) -> int:
        # The client pattern ETags exist for: read, modify, write with If-Match, retry on 412.
        while True:
            attempts[i] += 1
            current = get_job_info("alice", job_id)
            new = f"{current.resource.description}\nline {i}"
            try:
                return update_job_info(
                    "alice", job_id, JobInfoUpdate.model_validate({"description": new}), {current.version}
                ).version
            except PreconditionFailed:
                continue

    versions = run_concurrently(50, append_line)
    assert sorted(v for v in versions if isinstance(v, int)) == list(range(2, 52))
    final = get_job_info("alice", job_id)
    lines = final.resource.description.splitlines()[1:]
    assert sorted(lines) == sorted(f"line {i}" for i in range(50)), "no update was lost"
    assert final.version == 51
    assert sum(attempts) > 50, "the test did provoke conflicts"
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE detail_type = 'JobInfoUpdated'")).scalar_one() == 50


def test_50_concurrent_blind_updates_are_each_atomic(containers: None, clean_db: Engine) -> None:
    job = create_job_info(
        "alice", JobInfoCreate.model_validate({"name": "n", "experienceLevel": "junior", "description": "-"})
    )
    job_id = job.resource.id
    results = run_concurrently(
        50, lambda i: update_job_info("alice", job_id, JobInfoUpdate.model_validate({"name": f"name {i}"})).version
    )
    assert sorted(r for r in results if isinstance(r, int)) == list(range(2, 52))
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT version FROM job_infos")).scalar_one() == 51


def test_concurrent_idempotent_retries_create_exactly_one(
    containers: None, event_sink: EventSink, clean_db: Engine
) -> None:
    body = JobInfoCreate.model_validate({"name": "n", "experienceLevel": "senior", "description": "-"})
    results = run_concurrently(16, lambda i: create_job_info("alice", body, "same-key"))
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 16, [r for r in results if isinstance(r, BaseException)]
    assert len({r.resource.id for r in created}) == 1
    assert sum(not r.replayed for r in created) == 1

    job_id = created[0].resource.id
    ivs = run_concurrently(16, lambda i: create_interview("alice", UNLIMITED, job_id, InterviewCreate(), "iv-key"))
    assert len({r.resource.id for r in ivs if not isinstance(r, BaseException)}) == 1
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM job_infos")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM interviews")).scalar_one() == 1
        assert conn.execute(text("SELECT tokens FROM rate_limit_buckets")).scalar_one() == pytest.approx(11, abs=0.01)
    assert [e["detail-type"] for e in event_sink.drain()] == ["JobInfoCreated", "InterviewCreated"]


def test_token_bucket_is_safe_under_concurrency(containers: None, clean_db: Engine) -> None:
    job = create_job_info(
        "alice", JobInfoCreate.model_validate({"name": "n", "experienceLevel": "senior", "description": "-"})
    )
    job_id = job.resource.id
    results: list[Any] = run_concurrently(30, lambda i: create_interview("alice", UNLIMITED, job_id, InterviewCreate()))
    limited = [r for r in results if isinstance(r, RateLimited)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, RateLimited)]
    assert not others
    assert len(limited) == 18
    assert all(r.retry_after_seconds > 0 for r in limited)
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM interviews")).scalar_one() == 12


def test_the_question_limit_is_safe_under_concurrency(containers: None, clean_db: Engine) -> None:
    """12 concurrent creates on the 5_questions plan, from a user with no plan_usage row yet
    (concurrent first inserts of it): exactly 5 questions, the rest refused, the count 5."""
    job = create_job_info(
        "alice", JobInfoCreate.model_validate({"name": "n", "experienceLevel": "senior", "description": "-"})
    )
    body = QuestionCreate.model_validate({"text": "q", "difficulty": "easy"})
    five = frozenset({"5_questions"})
    results: list[Any] = run_concurrently(12, lambda i: create_question("alice", five, job.resource.id, body))
    refused = [r for r in results if isinstance(r, PlanLimitReached)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, PlanLimitReached)]
    assert not others
    assert len(refused) == 7
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM questions")).scalar_one() == 5
        assert conn.execute(text("SELECT questions FROM plan_usage WHERE user_id = 'alice'")).scalar_one() == 5
