"""Building blocks for the API's request/response models: camelCase JSON, strict text fields."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel


def _storable_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates (legal in JSON "\ud800") cannot be
    # encoded to UTF-8: both would fail inside the database as a 500 instead of a clear 422.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


# Use as Annotated[str, bounded_text(N), Storable]: trimmed, non-blank, at most N characters, storable.
Storable = AfterValidator(_storable_text)


def bounded_text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


class ApiInput(BaseModel):
    """Request bodies: camelCase keys only, unknown keys rejected."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)


class ApiOutput(BaseModel):
    """Response bodies: built from snake_case rows, serialized as camelCase."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, from_attributes=True
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ApiPatch(ApiInput):
    """PATCH bodies: only the keys present change; at least one key; null only where allowed.

    Fields are declared ``X | None = None`` so "absent" is expressible; ``non_nullable`` lists
    those for which an explicit null is an error (reported at the field's location).
    """

    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: object, info: ValidationInfo) -> object:
        # Field validators run only for keys present in the body, never for defaults.
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("may not be null")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("provide at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class Page(ApiOutput):
    """A page of a list; pass nextCursor back as ?cursor= for the next one (null: last page)."""

    next_cursor: str | None
