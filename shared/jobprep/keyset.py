"""Keyset pagination, newest first over (a time column DESC, id DESC), or oldest first over
(a time column, id): stable under concurrent inserts. A page statement is prebuilt: where it
starts is a bind (the first page starts at START, past every row; OLDEST_START oldest first),
and it fetches one row more than the page to tell whether another follows. The API encodes a
Position as an opaque cursor (jobprep.api.cursor)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Column, Select, tuple_

from jobprep.binds import AFTER_AT, AFTER_ID, PAGE_ROWS

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

R = TypeVar("R")


@dataclass(frozen=True)
class Position:
    """The last row a page held: its time (the sort column) and id."""

    at: datetime
    id: UUID


START = Position(datetime.max.replace(tzinfo=UTC), UUID(int=(1 << 128) - 1))  # after it: every row
OLDEST_START = Position(datetime.min.replace(tzinfo=UTC), UUID(int=0))  # ... oldest first


def newest_first(rows: Select[Any], at: Column[datetime], row_id: Column[UUID]) -> Select[Any]:
    """`rows`, one page of them: after the bound position, newest first."""
    return (
        rows.where(tuple_(at, row_id) < tuple_(AFTER_AT, AFTER_ID)).order_by(at.desc(), row_id.desc()).limit(PAGE_ROWS)
    )


def oldest_first(rows: Select[Any], at: Column[datetime], row_id: Column[UUID]) -> Select[Any]:
    """`rows`, one page of them: after the bound position, oldest first (start: OLDEST_START)."""
    return rows.where(tuple_(at, row_id) > tuple_(AFTER_AT, AFTER_ID)).order_by(at.asc(), row_id.asc()).limit(PAGE_ROWS)


def params(limit: int, after: Position | None, start: Position = START) -> dict[str, Any]:
    """The page's binds: after `after`, or from `start` (OLDEST_START for an oldest_first page)."""
    start = after or start
    return {AFTER_AT.key: start.at, AFTER_ID.key: start.id, PAGE_ROWS.key: limit + 1}


def split_page(
    rows: Sequence[R], limit: int, position_of: Callable[[R], Position]
) -> tuple[Sequence[R], Position | None]:
    """The page and where the next one starts (None: this is the last page)."""
    if len(rows) > limit:
        return rows[:limit], position_of(rows[limit - 1])
    return rows, None
