"""What logic functions hand back to handlers: the resource plus what HTTP needs around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from jobprep.errors import NotFound
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


def parse_id(raw: str) -> UUID:
    """Path ids: anything that is not a UUID cannot name a resource, so it is a plain 404."""
    try:
        return UUID(raw)
    except ValueError as exc:
        raise NotFound() from exc
