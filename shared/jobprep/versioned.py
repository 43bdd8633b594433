"""What services hand back to the API edge: a resource and its version (the ETag)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from jobprep.schemas import ApiOutput

T = TypeVar("T", bound=ApiOutput)


@dataclass(frozen=True)
class Versioned(Generic[T]):
    resource: T
    version: int  # becomes the ETag


@dataclass(frozen=True)
class Created(Versioned[T]):
    replayed: bool = False  # an Idempotency-Key retry answered with the first request's resource


@dataclass(frozen=True)
class Updated(Versioned[T]):
    changed: bool = True  # False: the PATCH asked for what was already there (no new version, no event)
