"""Records are built from result rows by column name, never by position."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import literal, select
from sqlalchemy.engine import Engine

from jobprep.db.run import run
from jobprep.prebuilt import DriverSql
from jobprep.records import Record


@dataclass(frozen=True, slots=True)
class Pair(Record):
    name: str
    title: str


def test_a_reordered_select_cannot_swap_values_of_the_same_type(database: Engine) -> None:
    with database.connect() as conn:
        row = conn.execute(select(literal("the title").label("title"), literal("the name").label("name"))).one()
    assert Pair.of(row) == Pair(name="the name", title="the title")


def test_a_missing_column_is_an_error_not_a_shifted_value(database: Engine) -> None:
    with database.connect() as conn:
        row = conn.execute(select(literal("the name").label("name"), literal("x").label("extra"))).one()
    with pytest.raises(KeyError):
        Pair.of(row)


def test_rows_from_the_prebuilt_path_are_read_by_name_too(database: Engine) -> None:
    """jobprep.db.run's rows (psycopg named tuples) follow the same rule."""
    swapped = DriverSql("planted", "SELECT 'the title' AS title, 'the name' AS name", (), ())
    missing = DriverSql("planted", "SELECT 'the name' AS name, 'x' AS extra", (), ())
    with database.connect() as conn:
        assert Pair.of(run(conn, swapped, {}).one()) == Pair(name="the name", title="the title")
        with pytest.raises(KeyError, match="title"):
            Pair.of(run(conn, missing, {}).one())
