"""The container's database engine: created once at import, reused by every warm invocation.

* One pooled connection (a Lambda container serves one request at a time) in autocommit:
  every operation is a single statement, atomic on its own, so no BEGIN/COMMIT round trips.
  Code that needs a multi-statement transaction asks for one (``transaction()``).
* A liveness check on checkout, because a frozen container's socket may have been closed by
  the server or a NAT/proxy idle timeout while it slept: a real ping after any idle time over
  a few seconds, a free socket check between back-to-back invocations.
* No server-side prepared statements (psycopg ``prepare_threshold=None``): safe behind
  RDS Proxy and PgBouncer in transaction mode.
"""

from __future__ import annotations

import select as io_select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import Connection, create_engine, event, literal, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

from jobprep.config import Settings, get_settings
from jobprep.db.credentials import database_url, password_provider
from jobprep.errors import DatabaseUnavailable
from jobprep.observability import logger, metrics

APPLICATION_NAME = "job-prep-functions"

# A connection checked back in less than this long ago, whose socket has received nothing
# since, is used without a network ping. Longer idle (a frozen container, a proxy or NAT
# idle timeout) always gets a real round trip.
PING_AFTER_IDLE_SECONDS = 5.0


def _socket_untouched(dbapi_connection: Any) -> bool:
    """Nothing arrived while the connection sat idle. A terminated backend, a server restart
    or a proxy closing the session all leave data or EOF on the socket."""
    if dbapi_connection.closed or dbapi_connection.pgconn.status != psycopg.pq.ConnStatus.OK:
        return False
    readable, _, _ = io_select.select([dbapi_connection.pgconn.socket], [], [], 0)
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
    try:
        dbapi_connection.execute("SELECT 1")  # autocommit: opens no transaction
    except psycopg.Error as exc:
        raise sa_exc.DisconnectionError() from exc


# Pause before another connection attempt: a proxy or pooler that refused or dropped the first
# one while its database resumes is usually ready a moment later.
CONNECT_RETRY_PAUSE_SECONDS = 1.0


def _connect_with_retries(retries: int) -> Any:
    """A ``do_connect`` listener: up to `retries` attempts of its own, then the last one is
    SQLAlchemy's (returning None), whose error surfaces as usual. Runs after the credentials
    listener, so every attempt carries them."""

    def connect(dialect: Any, _conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        for attempt in range(1, retries + 1):
            try:
                return dialect.connect(*cargs, **cparams)
            except psycopg.OperationalError as exc:
                logger.warning("database connect failed, retrying", extra={"attempt": attempt, "error": str(exc)})
                time.sleep(CONNECT_RETRY_PAUSE_SECONDS)
        return None

    return connect


def build_engine(settings: Settings, *, pool_size: int = 1) -> Engine:
    built = create_engine(
        database_url(settings),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=5,
        isolation_level="AUTOCOMMIT",
        # Nothing to roll back on return in autocommit: no rollback() call per checkin. A
        # transaction() block rolls back or commits itself, and the pool still restores the
        # isolation level it changed.
        pool_reset_on_return=None,
        connect_args={
            "prepare_threshold": None,
            "connect_timeout": settings.db_connect_timeout,
            "application_name": APPLICATION_NAME,
        },
    )
    event.listen(built, "checkin", _on_checkin)
    event.listen(built, "checkout", _on_checkout)
    if settings.database_url is None:
        event.listen(built, "do_connect", password_provider(settings))
    if settings.db_connect_retries:
        event.listen(built, "do_connect", _connect_with_retries(settings.db_connect_retries))
    return built


engine: Engine = build_engine(get_settings())

# Errors that mean "the database is not reachable right now", not "your statement is wrong".
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def _unavailable() -> DatabaseUnavailable:
    # Counted here, where "unreachable" is told apart from "wrong statement", so every function
    # (HTTP 503s, relay, keep-warm pings) feeds the DatabaseUnavailable alarm in template.yaml.
    metrics.add_metric(name="DatabaseUnavailable", unit=MetricUnit.Count, value=1)
    return DatabaseUnavailable()


@contextmanager
def _unavailable_as_domain_error() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise _unavailable() from exc
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise _unavailable() from exc
        raise


@contextmanager
def connect() -> Iterator[Connection]:
    """The pooled connection in autocommit: each statement commits on its own, in one round trip."""
    with _unavailable_as_domain_error(), engine.connect() as conn:
        yield conn


@contextmanager
def transaction() -> Iterator[Connection]:
    """A multi-statement transaction (the relay, migrations): commits on success, rolls back on error."""
    with (
        _unavailable_as_domain_error(),
        engine.connect() as conn,
        conn.execution_options(isolation_level="READ COMMITTED").begin(),
    ):
        yield conn


def ping() -> None:
    """Check out the connection (the checkout check reconnects if needed) and run a trivial query."""
    with connect() as conn:
        conn.execute(select(literal(1)))
