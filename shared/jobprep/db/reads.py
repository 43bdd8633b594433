"""Reads: one prebuilt statement, one round trip; no event, no bookkeeping riding along."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobprep.db import engine as db
from jobprep.db.run import run
from jobprep.errors import NotFound
from jobprep.observability import traced
from jobprep.prebuilt import Prebuilt


@traced  # X-Ray: the statement's round trip
def fetch(statement: Prebuilt, params: Mapping[str, Any]) -> Sequence[Any]:
    """The rows (named tuples, one attribute per column)."""
    with db.connect() as conn:
        return run(conn, statement.driver_sql, params).all()


def fetch_one(statement: Prebuilt, params: Mapping[str, Any]) -> Any:
    """The first row; NotFound when there is none (a row that is missing and one that is not
    the caller's get the same answer)."""
    rows = fetch(statement, params)
    if not rows:
        raise NotFound()
    return rows[0]
