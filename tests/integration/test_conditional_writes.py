"""Every update and delete is one conditional write (jobprep.conditional): If-Match is checked
on the row it writes, and a race lost between the statement's snapshot and its write (another
transaction changed the row first) is run again, answering what a fresh request would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep_local.invoke import LambdaHttpResponse
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, wait_for_lock_wait


def lose_a_race(clean_db: Engine, concurrent: str, params: dict[str, Any], request: Callable[[], Any]) -> Any:
    """`request` starts while another transaction holds the row, changed by `concurrent`; that
    transaction commits once the request waits for it."""
    blocker = clean_db.connect().execution_options(isolation_level="READ COMMITTED")  # the admin engine autocommits
    blocker.begin()
    blocker.execute(text(concurrent), params)
    answers: list[LambdaHttpResponse] = []
    worker = threading.Thread(target=lambda: answers.append(request()))
    worker.start()
    try:
        wait_for_lock_wait(clean_db)
    finally:
        blocker.commit()
        blocker.close()
        worker.join(30)
    assert answers, "the request did not finish"
    return answers[0]


BUMP = "UPDATE job_infos SET version = version + 1, updated_at = now() WHERE id = :id"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_if_match_lost_to_a_concurrent_change_is_412(
    api: ApiClient, clean_db: Engine, event_sink: EventSink, method: str
) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}"
    event_sink.drain()

    def conditional() -> Any:
        if method == "patch":
            return api.patch(path, {"name": "mine"}, headers={"if-match": '"1"'})
        return api.delete(path, headers={"if-match": '"1"'})

    response = lose_a_race(clean_db, BUMP, {"id": job["id"]}, conditional)

    assert response.status == 412, response.body  # not a 503: the lost race was run again
    current = api.get(path)
    assert (current.status, current.headers["etag"], current.json()["name"]) == (200, '"2"', job["name"])
    assert event_sink.drain() == []


def test_a_patch_whose_value_another_request_set_first_changes_nothing(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}"
    event_sink.drain()
    concurrent = "UPDATE job_infos SET name = 'both', version = version + 1, updated_at = now() WHERE id = :id"

    response = lose_a_race(clean_db, concurrent, {"id": job["id"]}, lambda: api.patch(path, {"name": "both"}))

    assert response.status == 200, response.body
    assert (response.headers["etag"], response.json()["name"]) == ('"2"', "both")  # the other's version
    assert event_sink.drain() == [], "nothing changed, so no event"
