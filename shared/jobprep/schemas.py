"""Building blocks for the API's request/response models: camelCase JSON, strict text fields."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


def _storable_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates (legal in JSON "\ud800") cannot be
    # encoded to UTF-8: both would fail inside the database as a 500 instead of a clear 422.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# What _storable_text accepts, for the OpenAPI document: some non-whitespace character and no NUL
# (\s as Python's str.isspace, the set strip() removes).
STORABLE_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class _Storable:
    """Annotated metadata: validate with _storable_text (trimmed result) and document it as a pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_storable_text, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = STORABLE_TEXT_PATTERN
        return json_schema


# Use as Annotated[str, bounded_text(N), Storable]: at most N characters as sent (so the schema's
# maxLength is exact), then trimmed, non-blank, storable.
Storable = _Storable()


def bounded_text(max_length: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=max_length)


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


def _patch_json_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Document what ApiPatch accepts: `non_nullable` fields may be omitted but not null, and the
    body names at least one field."""
    non_nullable: frozenset[str] = getattr(model, "non_nullable", frozenset())
    for name, info in model.model_fields.items():
        prop = schema.get("properties", {}).get(info.alias or name)
        if name in non_nullable and prop is not None and "anyOf" in prop:
            options = [o for o in prop.pop("anyOf") if o != {"type": "null"}]
            prop.update(options[0] if len(options) == 1 else {"anyOf": options})
    schema["minProperties"] = 1


class ApiPatch(ApiInput):
    """PATCH bodies: only the keys present change; at least one key; null only where allowed.

    Fields are declared ``X | None = None`` so "absent" is expressible; ``non_nullable`` lists
    those for which an explicit null is an error (reported at the field's location).
    """

    model_config = ConfigDict(json_schema_extra=_patch_json_schema)

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
