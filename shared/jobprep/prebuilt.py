"""Prebuilt statements: built once at import, each under a name, so the SQL an operation sends
is one reviewable text. ``make sql`` writes every one to ``sql/<name>.sql`` (a test fails while
a file differs), compiled for PostgreSQL as psycopg sends it, with a comment above each CTE.

What makes that text stable: every bind is a named parameter from jobprep.binds, fixed values
are SQL constants (``constant()``), and every CTE is named and commented where it is built
(``cte()``); a CTE name means the same thing in every statement that uses it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import CTE, ClauseElement, ColumnElement, Enum, Executable, Select, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import HasCTE
from sqlalchemy.types import Boolean, Float, Integer, Interval, String, TypeEngine

from jobprep import binds

Kind = Literal["read", "change", "relay"]
Statement = Select[Any]  # what a change statement is built from (unit_of_work.change_statement)

_KIND_NOTES: dict[Kind, str] = {
    "read": "A read: one round trip (jobprep.db.reads).",
    "change": (
        "A change, atomic on its own in autocommit: one round trip (jobprep.unit_of_work.change), its event"
        " published once it has committed. Its sent_receipts CTE (mark_sent.sql) marks sent this container's"
        " earlier events EventBridge accepted (none: an empty list)."
    ),
    "relay": "Outbox bookkeeping: run by the relay and its housekeeping (jobprep.relay), a keep-warm ping or"
    " after a failed inline publish (jobprep.unit_of_work).",
}

SQL_DIR = Path(__file__).resolve().parent / "sql"  # sql/<name>.sql, written by `make sql`

_catalog: dict[str, Prebuilt] = {}
_comments: dict[str, str] = {}


@dataclass(frozen=True, eq=False)
class Prebuilt:
    """A statement built once, its name (the file in sql/) and one line on what it does."""

    name: str
    kind: Kind
    about: str
    statement: Executable = field(repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"statement name {self.name!r}: lower-case words and underscores")
        if self.name in _catalog:
            raise ValueError(f"two prebuilt statements are called {self.name!r}")
        _catalog[self.name] = self

    @cached_property
    def sql(self) -> str:
        """The statement as sql/<name>.sql holds it (see render)."""
        return render(self.name, self.kind, self.about, self.statement)

    @cached_property
    def driver_sql(self) -> DriverSql:
        """What runs (jobprep.db.run): sql/<name>.sql as committed, read on first use, so a
        function never compiles a statement (10-20 ms of its first invocation otherwise).
        tests/unit/test_sql_files.py proves each file is what the code builds; a statement whose
        file is missing is compiled instead."""
        path = SQL_DIR / f"{self.name}.sql"
        if not path.is_file():
            return self.compiled
        return committed(self.name, path.read_text())

    @cached_property
    def compiled(self) -> DriverSql:
        """The same, compiled from the statement by SQLAlchemy (make sql, the tests)."""
        return driver_sql(self.name, self.kind, self.about, self.statement)


def catalog() -> list[Prebuilt]:
    """Every prebuilt statement of the modules imported so far, by name."""
    return [_catalog[name] for name in sorted(_catalog)]


def cte(selectable: HasCTE, name: str, comment: str) -> CTE:
    """``selectable.cte(name)``, with the comment rendered above it in sql/."""
    if "%" in comment:
        raise ValueError("a comment must not contain %: psycopg reads it as a placeholder")
    known = _comments.setdefault(name, comment)
    if known != comment:
        raise ValueError(f"CTE {name!r} already means {known!r}: give this one another name")
    return selectable.cte(name)


def constant(value: str | int | float | bool | timedelta, type_: TypeEngine[Any] | None = None) -> ColumnElement[Any]:
    """A fixed value written into the SQL text (a bind would get an anonymous, unstable name)."""
    if isinstance(value, timedelta):
        count = value.total_seconds()
        unit = "second" if count == 1 else "seconds"
        return literal_column(f"interval '{count:g} {unit}'", type_ or Interval())
    if isinstance(value, bool):
        return literal_column("true" if value else "false", type_ or Boolean())
    if isinstance(value, int):
        return literal_column(str(value), type_ or Integer())
    if isinstance(value, float):
        return literal_column(repr(value), type_ or Float())
    return literal_column("'" + value.replace("'", "''") + "'", type_ or String())


def seconds(count: ColumnElement[Any]) -> ColumnElement[Any]:
    """An interval of `count` seconds (an integer bind types itself in the text; an interval
    bind would not)."""
    return count * constant(timedelta(seconds=1))


_CTE_HEADER = re.compile(r"(WITH |, \n)(\w+) AS \n\(")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _compile(statement: Executable) -> SQLCompiler:
    """Compiled for PostgreSQL with psycopg 3's dialect (pyformat placeholders with casts). A
    fresh dialect: the text does not depend on the server it last talked to."""
    from sqlalchemy.dialects.postgresql import psycopg

    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=psycopg.dialect())  # type: ignore[no-untyped-call]
    assert isinstance(compiled, SQLCompiler)
    return compiled


def compiled_text(statement: Executable) -> str:
    """The statement compiled for PostgreSQL as psycopg 3 sends it (pyformat placeholders with casts)."""
    return str(_compile(statement))


def placeholders(text: str) -> list[str]:
    """Bind names in order of first appearance."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def render(name: str, kind: Kind, about: str, statement: Executable) -> str:
    """The compiled text with a header and a comment line above each CTE, trailing spaces
    removed: only comments and whitespace differ from what the driver sends, so this text can
    be executed as it is."""
    return _render(name, kind, about, str(_compile(statement)))


def _render(name: str, kind: Kind, about: str, text: str) -> str:

    def commented(match: re.Match[str]) -> str:
        cte_name = match.group(2)
        if cte_name not in _comments:
            raise ValueError(f"{name}: CTE {cte_name!r} has no comment (build it with prebuilt.cte)")
        return f"{match.group(1)}\n-- {_comments[cte_name]}\n{cte_name} AS \n("

    body = "\n".join(line.rstrip() for line in _CTE_HEADER.sub(commented, text).splitlines())
    names = placeholders(text)
    lines = [f"{name}: {about}", _KIND_NOTES[kind]]
    lines.append(f"Binds: {', '.join(names)}." if names else "Binds: none.")
    header = [f"-- {line}" for paragraph in lines for line in textwrap.wrap(paragraph, 96)]
    return "\n".join(header) + "\n" + body.strip() + "\n"


_DRIVER_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class DriverSql:
    """A prebuilt statement as psycopg sends it to PostgreSQL: the rendered text (sql/<name>.sql)
    with its named placeholders numbered ($1, $2... in order of first appearance, a repeated name
    keeping its number) and %% unescaped, which is what psycopg itself does to that text on every
    execute; done once here, so the driver sends the text as it is (psycopg.RawCursor).

    Bind values go through the SQLAlchemy type's bind processor where it has one (public
    TypeEngine API), as SQLAlchemy's own execution would do."""

    name: str
    text: str
    binds: tuple[str, ...]  # binds[0] is $1
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] for name in self.binds]
        for index, convert in self.converters:
            values[index] = convert(values[index])
        return values


def numbered(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with %(name)s as $n (first appearance order) and %% as %; and the names by number."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

    converted = _DRIVER_PLACEHOLDER.sub(number, text)
    if "%" in _DRIVER_PLACEHOLDER.sub("", text):
        raise ValueError("a lone % in the SQL text: psycopg would have read it as a placeholder")
    return converted, tuple(numbers)


@cache
def _dialect() -> Dialect:
    from sqlalchemy.dialects.postgresql import psycopg

    return psycopg.dialect()  # type: ignore[no-untyped-call]


def _converters(names: tuple[str, ...], type_of: Callable[[str], TypeEngine[Any]], dialect: Dialect) -> Any:
    converters = []
    for index, bind_name in enumerate(names):
        processor = type_of(bind_name).dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            converters.append((index, processor))
    return tuple(converters)


def committed(name: str, text: str) -> DriverSql:
    """A statement from its committed text (sql/<name>.sql): placeholders numbered, each bind's
    value converted as its type in jobprep.binds says."""
    numbered_text, names = numbered(text)
    return DriverSql(name, numbered_text, names, _converters(names, binds.type_of, _dialect()))


def driver_sql(name: str, kind: Kind, about: str, statement: Executable) -> DriverSql:
    compiled = _compile(statement)
    text, names = numbered(_render(name, kind, about, str(compiled)))
    dialect = compiled.dialect
    converters = _converters(names, lambda bind_name: compiled.binds[bind_name].type, dialect)
    columns: Any = getattr(statement, "selected_columns", None) or getattr(statement, "exported_columns", ())
    for column in columns:
        type_ = column.type
        if type_.dialect_impl(dialect).result_processor(dialect, None) is None:
            continue
        # A string Enum's processor maps each label to itself: the driver's str is the same value.
        if not (isinstance(type_, Enum) and type_.enum_class is None):
            raise ValueError(f"{name}: column {column.key!r} ({type_!r}) needs SQLAlchemy's result processing")
    return DriverSql(name, text, names, converters)
