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
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import URL, Connection, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

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
def autocommit() -> Iterator[Connection]:
    """Statements that need no transaction around them (reads, a single self-contained UPDATE):
    one round trip each, no BEGIN/COMMIT."""
    with _unavailable_as_domain_error(), engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def ping() -> None:
    """Check out the connection (the checkout check reconnects if needed) and run a trivial query."""
    with autocommit() as conn:
        conn.execute(text("SELECT 1"))
