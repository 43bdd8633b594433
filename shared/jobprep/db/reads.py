"""Reads: one prebuilt statement, one round trip; no event, no bookkeeping riding along."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobprep.db import engine as db
from jobprep.db.run import run
from jobprep.observability import traced
from jobprep.prebuilt import Prebuilt


@traced  # X-Ray: the statement's round trip
def fetch(statement: Prebuilt, params: Mapping[str, Any]) -> Sequence[Any]:
    """The rows (named tuples, one attribute per column)."""
    with db.connect() as conn:
        return run(conn, statement.driver_sql, params).all()
