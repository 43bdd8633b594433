"""The container's database engine: created once at import, reused by every warm invocation.

* One pooled connection (a Lambda container serves one request at a time) and a liveness
  check on checkout, because a frozen container's socket may have been closed by the
  server or a NAT/proxy idle timeout while it slept: a real ping after any idle time over a
  few seconds, a free socket check between back-to-back invocations.
* No server-side prepared statements (psycopg ``prepare_threshold=None``): safe behind
  RDS Proxy and PgBouncer in transaction mode, where consecutive statements may land on
  different server sessions.
* Credentials are looked up when a connection is opened, not at import, so rotated
  secrets and 15-minute IAM tokens are picked up on the next reconnect.
* The repositories' prebuilt statements are compiled once and run straight on the driver's
  cursor (``fetch_one`` and friends): see the note above them.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from sqlalchemy import URL, Connection, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from jobprep.config import Settings, get_settings
from jobprep.errors import DatabaseUnavailable

_DRIVER = "postgresql+psycopg"


def database_url(settings: Settings) -> URL:
    if settings.database_url:
        url = make_url(settings.database_url)
        return url.set(drivername=_DRIVER) if url.drivername in ("postgresql", "postgres") else url
    return URL.create(
        _DRIVER,
        username=settings.db_user,
        host=settings.db_host,
        port=settings.db_port,
        database=settings.db_name,
        query={"sslmode": settings.db_sslmode},
    )


def _credentials_hook(settings: Settings) -> Any:
    def provide_password(_dialect: Any, _conn_rec: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if settings.db_iam_auth:
            import boto3  # lazy: only IAM-auth deployments pay for this import

            cparams["password"] = boto3.client("rds").generate_db_auth_token(
                DBHostname=str(settings.db_host), Port=settings.db_port, DBUsername=settings.db_user
            )
        elif settings.db_secret_arn:
            from aws_lambda_powertools.utilities.parameters import get_secret  # lazy, as above

            # Cached for 5 minutes by Powertools; a rotated password is seen on the next reconnect.
            secret = get_secret(settings.db_secret_arn, transform="json", max_age=300)
            cparams["user"] = secret.get("username", cparams.get("user"))
            cparams["password"] = secret["password"]

    return provide_password


# A connection checked back in less than this long ago, whose socket has received nothing
# since, is used without a network ping. Longer idle (a frozen container, a proxy or NAT
# idle timeout) always gets a real round trip.
PING_AFTER_IDLE_SECONDS = 5.0


def _socket_untouched(dbapi_connection: Any) -> bool:
    """Nothing arrived while the connection sat idle. A terminated backend, a server restart
    or a proxy closing the session all leave data or EOF on the socket."""
    if dbapi_connection.closed or dbapi_connection.pgconn.status != 0:  # 0 = CONNECTION_OK
        return False
    readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    return not readable


def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Pessimistic liveness check: ping unless the connection was just used and is untouched.
    Raising DisconnectionError makes the pool replace the connection and check out again."""
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None:
        return  # opened just now for this checkout (the pool clears info when it replaces a connection)
    if time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS and _socket_untouched(dbapi_connection):
        return
    was_autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # the ping must not open a transaction
        dbapi_connection.execute("SELECT 1")
    except psycopg.Error as exc:
        raise sa_exc.DisconnectionError() from exc
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = was_autocommit


def build_engine(settings: Settings) -> Engine:
    built = create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=0,
        pool_timeout=5,
        connect_args={
            "prepare_threshold": None,
            "connect_timeout": settings.db_connect_timeout,
            "application_name": "job-prep-functions",
        },
    )
    event.listen(built, "checkin", _on_checkin)
    event.listen(built, "checkout", _on_checkout)
    if settings.database_url is None:
        event.listen(built, "do_connect", _credentials_hook(settings))
    return built


engine: Engine = build_engine(get_settings())

# Errors that mean "the database is not reachable right now", not "your statement is wrong".
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


@contextmanager
def _unavailable_as_domain_error() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable() from exc
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable() from exc
        raise


@contextmanager
def transaction() -> Iterator[Connection]:
    """One atomic unit of work: commits on success, rolls back on any exception."""
    with _unavailable_as_domain_error(), engine.begin() as conn:
        yield conn


@contextmanager
def connection() -> Iterator[Connection]:
    """The pooled connection for a whole unit of work (a transaction and what follows its
    commit), checked out once: each checkout and checkin costs a pool round, reset and
    liveness check."""
    with _unavailable_as_domain_error(), engine.connect() as conn:
        yield conn


def use_autocommit(conn: Connection) -> Connection:
    """Switch a checked-out connection, outside any transaction, to autocommit (until checkin)."""
    return conn.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def autocommit() -> Iterator[Connection]:
    """Statements that need no transaction around them (reads, a single self-contained UPDATE):
    one round trip each, no BEGIN/COMMIT."""
    with _unavailable_as_domain_error(), engine.connect() as conn:
        yield use_autocommit(conn)


def ping() -> None:
    """Check out the connection (the checkout check reconnects if needed) and run a trivial query."""
    with autocommit() as conn:
        conn.execute(text("SELECT 1"))


# --- prebuilt statements, straight on the driver ---------------------------------------------
#
# Connection.execute costs, on every call, a cache-key walk of the statement, an execution
# context, result metadata built from cursor.description and a RowMapping per row: on a fast
# network that is as much time as the round trip itself. The repositories' statements are
# built once at import, so they are compiled once here (SQLAlchemy's own SQL, bind and result
# processing for this dialect) and run on the connection's psycopg cursor. Driver errors get
# SQLAlchemy's treatment: wrapped in its exception classes, and on a disconnect the connection
# is invalidated so the pool replaces it. Not for expanding IN parameters (use = ANY(array)).


class _Compiled:
    # A plain class: a dataclass would cost more at import (cold start) than it saves in typing.
    __slots__ = ("bind_processors", "keys", "literals", "result_processors", "sql")

    def __init__(
        self,
        sql: str,
        literals: dict[str, Any],  # values bound inside the statement itself (e.g. the 1 in version + 1)
        bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...],
        keys: tuple[str, ...],  # result columns, in order
        result_processors: tuple[tuple[int, Callable[[Any], Any]], ...],
    ) -> None:
        self.sql = sql
        self.literals = literals
        self.bind_processors = bind_processors
        self.keys = keys
        self.result_processors = result_processors


_compiled: dict[tuple[ClauseElement, type[Dialect]], _Compiled] = {}


def _compile(stmt: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (stmt, type(dialect))
    found = _compiled.get(key)
    if found is not None:
        return found
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
    if "POSTCOMPILE" in compiled.string or compiled.escaped_bind_names:
        raise ValueError("statement needs per-execution compilation; run it with Connection.execute")
    binds = [(name, b) for b, name in compiled.bind_names.items()]  # with the names rendered in the SQL
    columns = list(getattr(stmt, "exported_columns", ()))
    found = _Compiled(
        sql=compiled.string,
        literals={name: b.effective_value for name, b in binds if not b.required},
        bind_processors=tuple(
            (name, processor)
            for name, b in binds
            if (processor := b.type.dialect_impl(dialect).bind_processor(dialect))
        ),
        keys=tuple(c.key for c in columns),
        result_processors=tuple(
            (i, processor)
            for i, c in enumerate(columns)
            if (processor := c.type.dialect_impl(dialect).result_processor(dialect, None))
        ),
    )
    _compiled[key] = found
    return found


def _run(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> tuple[_Compiled, list[tuple[Any, ...]]]:
    compiled = _compile(stmt, conn.dialect)
    values = {**compiled.literals, **params}
    for name, processor in compiled.bind_processors:
        if name in values:
            values[name] = processor(values[name])
    pooled = conn.connection
    dbapi_connection = pooled.driver_connection
    assert isinstance(dbapi_connection, psycopg.Connection)
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(compiled.sql, values)
            # (cursor.description would build a Column object per result column on every call)
            rows = cursor.fetchall() if compiled.keys else []
    except psycopg.Error as exc:
        disconnected = conn.dialect.is_disconnect(cast(Any, exc), pooled, None)
        if disconnected:
            conn.invalidate(exc)
        raise sa_exc.DBAPIError.instance(
            compiled.sql, values, exc, psycopg.Error, connection_invalidated=disconnected, dialect=conn.dialect
        ) from exc
    return compiled, rows


def _processed(compiled: _Compiled, row: tuple[Any, ...]) -> tuple[Any, ...]:
    if not compiled.result_processors:
        return row
    values = list(row)
    for i, processor in compiled.result_processors:
        values[i] = processor(values[i])
    return tuple(values)


def fetch_one(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first row as a dict keyed by column name, or None."""
    compiled, rows = _run(conn, stmt, params)
    return dict(zip(compiled.keys, _processed(compiled, rows[0]), strict=True)) if rows else None


def fetch_scalars(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> list[Any]:
    """The first column of every row."""
    compiled, rows = _run(conn, stmt, params)
    return [_processed(compiled, row)[0] for row in rows]


def execute(conn: Connection, stmt: ClauseElement, params: Mapping[str, Any]) -> None:
    """A statement that returns no rows."""
    _run(conn, stmt, params)
