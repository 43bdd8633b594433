"""Opaque pagination cursors: a keyset Position, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from jobprep.errors import InvalidInput
from jobprep.keyset import Position

CURSOR_MAX = 200


def encode_cursor(position: Position | None) -> str | None:
    if position is None:
        return None
    raw = json.dumps([position.at.isoformat(), str(position.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = Position(datetime.fromisoformat(at), UUID(row_id))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput(("query", "cursor"), "invalid pagination cursor") from exc
    if position.at.tzinfo is None:
        raise InvalidInput(("query", "cursor"), "invalid pagination cursor")
    return position
