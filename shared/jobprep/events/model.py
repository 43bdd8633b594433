"""The invalidation event as the rest of the code sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class InvalidationEvent:
    event_id: UUID  # = detail.eventId = the outbox row's id: kept on every re-publish
    source: str
    detail_type: str
    detail: dict[str, Any]
