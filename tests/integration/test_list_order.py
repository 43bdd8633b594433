"""Lists as the original app shows them: job infos and interviews most recently updated first
(then id), paged by a keyset cursor over (updated_at, id) that the updated_at indexes serve;
`?completed=true` lists only the interviews that reached Hume."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep import prebuilt
from jobprep_local.sql import SQL_DIR
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def walk(api: ApiClient, path: str, limit: int, between: Callable[[int], None] = lambda _: None) -> list[str]:
    """Every id one pass of pages yields, calling `between(n)` after the n-th page."""
    seen: list[str] = []
    query, n = f"limit={limit}", 0
    while True:
        page = api.get(path, query=query).json()
        seen += ids(page)
        n += 1
        if page["nextCursor"] is None:
            return seen
        between(n)
        query = f"limit={limit}&cursor={page['nextCursor']}"


def test_an_edited_job_info_moves_to_the_top(api: ApiClient) -> None:
    first, second, third = (api.create_job_info(name=n)["id"] for n in ("first", "second", "third"))
    assert ids(api.get("/job-infos").json()) == [third, second, first]

    assert api.patch(f"/job-infos/{first}", {"name": "edited"}).status == 200
    assert api.patch(f"/job-infos/{second}", {"name": "second"}).status == 200  # changes nothing: stays

    assert ids(api.get("/job-infos").json()) == [first, third, second]


def test_an_updated_interview_moves_to_the_top(api: ApiClient) -> None:
    job = api.create_job_info()["id"]
    first, second = (api.create_interview(job)["id"] for _ in range(2))
    assert ids(api.get(f"/job-infos/{job}/interviews").json()) == [second, first]

    assert api.patch(f"/interviews/{first}", {"duration": "00:01:00"}).status == 200

    assert ids(api.get(f"/job-infos/{job}/interviews").json()) == [first, second]


@pytest.mark.parametrize("table", ["job_infos", "interviews"])
def test_equal_times_are_ordered_by_id_and_paged_without_loss(api: ApiClient, clean_db: Engine, table: str) -> None:
    job = api.create_job_info()["id"]
    for _ in range(4):
        if table == "job_infos":
            api.create_job_info()
        else:
            api.create_interview(job)
    with clean_db.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET updated_at = '2026-11-24T00:00:00Z'"))  # noqa: S608 - a fixed name
        expected = [str(i) for i in conn.execute(text(f"SELECT id FROM {table} ORDER BY id DESC")).scalars()]  # noqa: S608
    path = "/job-infos" if table == "job_infos" else f"/job-infos/{job}/interviews"
    assert walk(api, path, limit=1) == expected


@pytest.mark.parametrize("table", ["job_infos", "interviews"])
def test_a_row_updated_while_a_client_pages(api: ApiClient, event_sink: EventSink, table: str) -> None:
    """What docs/api-contract.md promises: an update moves the row ahead of the cursor. One not yet
    seen is skipped on this pass, one already seen is not repeated, and the next pass has both
    at the top. A pass never yields an id twice."""
    job = api.create_job_info()["id"]
    if table == "job_infos":
        path, rows = "/job-infos", [job] + [api.create_job_info()["id"] for _ in range(5)]

        def touch(row: str, n: int) -> None:
            assert api.patch(f"/job-infos/{row}", {"name": f"edited {n}"}).status == 200

    else:
        path, rows = f"/job-infos/{job}/interviews", [api.create_interview(job)["id"] for _ in range(6)]

        def touch(row: str, n: int) -> None:
            assert api.patch(f"/interviews/{row}", {"duration": f"00:00:0{n}"}).status == 200

    newest_first = rows[::-1]
    seen_early, not_yet_seen = newest_first[0], newest_first[4]

    def edit_both(n: int) -> None:
        if n == 1:  # after the first page of two
            touch(not_yet_seen, 1)
            touch(seen_early, 2)

    this_pass = walk(api, path, limit=2, between=edit_both)
    assert len(this_pass) == len(set(this_pass)), "no duplicates within a pass"
    assert this_pass == [r for r in newest_first if r != not_yet_seen]
    assert walk(api, path, limit=2)[:2] == [seen_early, not_yet_seen]


def test_completed_lists_only_interviews_with_a_humechatid(api: ApiClient) -> None:
    job = api.create_job_info()["id"]
    started = api.create_interview(job, humeChatId="chat-1")["id"]
    never = api.create_interview(job)["id"]
    later = api.create_interview(job)["id"]
    assert api.patch(f"/interviews/{later}", {"humeChatId": "chat-2"}).status == 200
    path = f"/job-infos/{job}/interviews"

    assert ids(api.get(path, query="completed=true").json()) == [later, started]
    assert ids(api.get(path, query="completed=false").json()) == [later, never, started]
    assert ids(api.get(path).json()) == [later, never, started]
    first = api.get(path, query="completed=true&limit=1").json()
    rest = api.get(path, query=f"completed=true&limit=1&cursor={first['nextCursor']}").json()
    assert (ids(first), ids(rest), rest["nextCursor"]) == ([later], [started], None)
    bad = api.get(path, query="completed=maybe")
    assert (bad.status, bad.json()["detail"][0]["loc"]) == (422, ["query", "completed"])
    assert api.get(path, query="completed=true", user="bob").status == 404


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        ("list_job_infos", "ix_job_infos_user_id_updated_at_id"),
        ("list_interviews", "ix_interviews_job_info_id_updated_at_id"),
        ("list_completed_interviews", "ix_interviews_completed_job_info_id_updated_at_id"),
    ],
)
def test_each_page_is_an_index_scan_in_order_without_a_sort(clean_db: Engine, statement: str, index: str) -> None:
    """Many users and job infos, analyzed: the committed statement as the app sends it, planned for
    a page in the middle, reads its index in order from the cursor and stops at the page."""
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_infos (user_id, name, experience_level, description, updated_at)"
                " SELECT 'user' || (n % 100), 'n', 'junior', 'd', now() - n * interval '1 minute'"
                " FROM generate_series(1, 20000) n"
            )
        )
        job = conn.execute(text("SELECT id FROM job_infos WHERE user_id = 'user7' LIMIT 1")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO interviews (job_info_id, hume_chat_id, updated_at)"
                " SELECT j.id, CASE WHEN n % 3 = 0 THEN 'chat' END, now() - n * interval '1 second'"
                " FROM (SELECT id FROM job_infos LIMIT 2000) j, generate_series(1, 10) n"
                " UNION ALL SELECT :job, CASE WHEN n % 3 = 0 THEN 'chat' END, now() - n * interval '1 second'"
                " FROM generate_series(1, 2000) n"
            ),
            {"job": job},
        )
        conn.execute(text("ANALYZE job_infos; ANALYZE interviews"))
        middle = conn.execute(text("SELECT now() - interval '1 hour'")).scalar_one()
    sql = (SQL_DIR / f"{statement}.sql").read_text()
    binds = dict.fromkeys(prebuilt.placeholders(sql))
    binds.update(owner_id="user7", job_info_id=job, after_at=middle, after_id=None, page_rows=21)
    binds["after_id"] = "ffffffff-ffff-ffff-ffff-ffffffffffff"
    with clean_db.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN\n" + sql, binds))
    lines = plan.splitlines()
    limit = next(n for n, line in enumerate(lines) if line.strip().startswith(("Limit", "->  Limit")))
    # the page is the index read in order, stopped at page_rows: no Sort under the Limit (an
    # interviews page sorts its at most page_rows rows once more, after the join to its job info)
    assert f"->  Index Scan using {index} " in lines[limit + 1], plan
    assert "Seq Scan" not in plan, plan
