"""Rows as typed records, built by column name: a reordered SELECT cannot swap two values."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, ClassVar, Self


class Record:
    """Base of a frozen dataclass whose fields are the columns a statement selects for it."""

    __slots__ = ()
    _columns: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._columns = ()  # filled on first use: @dataclass runs after this hook

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The field names, in declaration order: what the record's statements select."""
        if not cls._columns:
            assert is_dataclass(cls), f"{cls.__name__} must be a dataclass"
            cls._columns = tuple(f.name for f in fields(cls))
        return cls._columns

    @classmethod
    def of(cls, row: Any) -> Self:
        """The record from a result row (a named tuple from jobprep.db.run, or SQLAlchemy's Row),
        each field from the column of the same name."""
        try:
            return cls(**{name: getattr(row, name) for name in cls.columns()})
        except AttributeError as exc:
            raise KeyError(f"{cls.__name__}: the row has no column {exc.name!r}") from exc
