"""Keyset (cursor) pagination over (created_at DESC, id DESC): stable under concurrent inserts."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, Table, tuple_
from sqlalchemy.engine import RowMapping

from jobprep.errors import InvalidInput
from jobprep.validation import ApiOutput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_MAX = 200


class Page(ApiOutput):
    next_cursor: str | None


def encode_cursor(row: RowMapping) -> str:
    raw = json.dumps([row["created_at"].isoformat(), str(row["id"])], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(created_at), UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput(("query", "cursor"), "invalid pagination cursor") from exc
    if parsed[0].tzinfo is None:
        raise InvalidInput(("query", "cursor"), "invalid pagination cursor")
    return parsed


def paginate(stmt: Select[Any], table: Table, limit: int, cursor: str | None) -> Select[Any]:
    """Newest first; fetch one extra row to know whether another page exists."""
    if cursor is not None:
        created_at, row_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(table.c.created_at, table.c.id) < tuple_(created_at, row_id))
    return stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit + 1)


def split_page(rows: Sequence[RowMapping], limit: int) -> tuple[Sequence[RowMapping], str | None]:
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None
