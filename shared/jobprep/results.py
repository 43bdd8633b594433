"""What logic functions hand back to handlers: the resource plus what HTTP needs around it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from jobprep.errors import NotFound, PreconditionFailed
from jobprep.validation import ApiOutput

T = TypeVar("T", bound=ApiOutput)


@dataclass(frozen=True)
class Versioned(Generic[T]):
    resource: T
    version: int  # becomes the ETag


@dataclass(frozen=True)
class Created(Versioned[T]):
    replayed: bool = False  # an Idempotency-Key retry answered from the stored response

    def to_stored(self) -> dict[str, Any]:
        return {"resource": self.resource.to_json(), "version": self.version}

    @classmethod
    def from_stored(cls, model: type[T], stored: dict[str, Any]) -> Created[T]:
        return cls(model.model_validate(stored["resource"]), stored["version"], replayed=True)


def updated_or_raise(
    row: Mapping[str, Any] | None, if_match: object | None, still_exists: Callable[[], bool]
) -> Mapping[str, Any]:
    """An UPDATE ... RETURNING that matched nothing: 412 if only the If-Match version was stale
    (the caller owns the row), otherwise 404."""
    if row is not None:
        return row
    if if_match is not None and still_exists():
        raise PreconditionFailed()
    raise NotFound()


def parse_id(raw: str) -> UUID:
    """Path ids: anything that is not a UUID cannot name a resource, so it is a plain 404."""
    try:
        return UUID(raw)
    except ValueError as exc:
        raise NotFound() from exc
