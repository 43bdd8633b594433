"""Keyset pagination over (created_at DESC, id DESC): stable under concurrent inserts.
The API encodes a Position as an opaque cursor (jobprep.api.cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, Table, tuple_

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

R = TypeVar("R")


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: UUID


def page_query(stmt: Select[Any], table: Table, limit: int, after: Position | None) -> Select[Any]:
    """Newest first; one extra row tells whether another page exists."""
    if after is not None:
        stmt = stmt.where(tuple_(table.c.created_at, table.c.id) < tuple_(after.created_at, after.id))
    return stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit + 1)


def split_page(rows: Sequence[R], limit: int, position_of: Any) -> tuple[Sequence[R], Position | None]:
    """The page and where the next one starts (None: this is the last page)."""
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], position_of(last)
    return rows, None
