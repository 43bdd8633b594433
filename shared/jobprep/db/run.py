"""Running a prebuilt statement: the text sql/<name>.sql holds, read once per container
(prebuilt.DriverSql: psycopg's placeholder numbering done once, not on every execute), sent by
psycopg as it is (``psycopg.RawCursor``), rows as named tuples (``psycopg.rows.namedtuple_row``,
its row maker made once per statement: a statement's columns never change, and making it reads
the result's description, a Column object per column, on every execution).

SQLAlchemy still owns the connection: the pool, the liveness check on checkout, transactions,
invalidation of a broken connection and the error classes (a driver error comes out as the same
``sqlalchemy.exc.DBAPIError`` subclass ``Connection.execute`` raises). What is skipped per
execution is SQLAlchemy's statement path around the driver: cache key, parameter processing,
execution context and result metadata (bench/README.md: client CPU).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import RowMaker, namedtuple_row
from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from jobprep.prebuilt import DriverSql


class Result:
    """A statement's rows (named tuples: ``row.name``) and its row count."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self.rows

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise sa_exc.MultipleResultsFound("more than one row where one or none was expected")
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise sa_exc.NoResultFound(f"{len(self.rows)} rows where exactly one was expected")
        return self.rows[0]


# Statement text -> the row maker namedtuple_row made for its first result.
_row_makers: dict[str, RowMaker[Any]] = {}


def run(conn: Connection, sql: DriverSql, params: Mapping[str, Any]) -> Result:
    """One execution of `sql` with `params` (keyed by bind name) on `conn`'s driver connection."""
    dbapi_connection = _driver_connection(conn)
    cursor = psycopg.RawCursor(dbapi_connection)  # rows as tuples, named below
    try:
        cursor.execute(sql.text, sql.values(params))
        # pgresult.nfields, not description: description builds a Column object per column
        result = cursor.pgresult
        if result is None or not result.nfields:
            return Result([], cursor.rowcount)
        make = _row_makers.get(sql.text)
        if make is None:
            make = _row_makers[sql.text] = namedtuple_row(cursor)
        return Result([make(row) for row in cursor.fetchall()], cursor.rowcount)
    except psycopg.Error as exc:
        raise _as_sqlalchemy_error(conn, dbapi_connection, cursor, sql, exc) from exc
    finally:
        cursor.close()


def run_many(conn: Connection, sql: DriverSql, params: Sequence[Mapping[str, Any]]) -> None:
    """`sql` once per parameter set (psycopg's executemany: pipelined, one wait)."""
    dbapi_connection = _driver_connection(conn)
    cursor = psycopg.RawCursor(dbapi_connection)
    try:
        cursor.executemany(sql.text, [sql.values(p) for p in params])
    except psycopg.Error as exc:
        raise _as_sqlalchemy_error(conn, dbapi_connection, cursor, sql, exc) from exc
    finally:
        cursor.close()


def _driver_connection(conn: Connection) -> psycopg.Connection[Any]:
    dbapi_connection = conn.connection.dbapi_connection
    assert isinstance(dbapi_connection, psycopg.Connection)
    return dbapi_connection


def _as_sqlalchemy_error(
    conn: Connection, dbapi_connection: Any, cursor: Any, sql: DriverSql, exc: Any
) -> sa_exc.StatementError:
    """What Connection.execute raises for this driver error; a connection the dialect calls
    disconnected is invalidated, so the pool replaces it (as SQLAlchemy's own path does)."""
    invalidated = bool(conn.dialect.is_disconnect(exc, dbapi_connection, cursor))
    if invalidated and not conn.invalidated:
        conn.invalidate(exc)
    error: sa_exc.StatementError = sa_exc.DBAPIError.instance(
        sql.text,
        None,
        exc,
        psycopg.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=conn.dialect,
    )
    return error
