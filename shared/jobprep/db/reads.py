"""Reads: one prebuilt statement, one round trip; no event, no bookkeeping riding along."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row

from jobprep.db import engine as db
from jobprep.observability import tracer
from jobprep.prebuilt import Prebuilt


@tracer.capture_method(capture_response=False)  # X-Ray: the statement's round trip
def fetch(statement: Prebuilt, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    with db.connect() as conn:
        return conn.execute(statement.statement, params).all()
