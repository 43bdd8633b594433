"""The container's database engine: created once at import, reused by every warm invocation.

* One pooled connection (a Lambda container serves one request at a time) and a pre-ping
  on checkout, because a frozen container's socket may have been closed by the server or
  a NAT/proxy idle timeout while it slept.
* No server-side prepared statements (psycopg ``prepare_threshold=None``): safe behind
  RDS Proxy and PgBouncer in transaction mode, where consecutive statements may land on
  different server sessions.
* Credentials are looked up when a connection is opened, not at import, so rotated
  secrets and 15-minute IAM tokens are picked up on the next reconnect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Connection, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

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


def build_engine(settings: Settings) -> Engine:
    built = create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=0,
        pool_timeout=5,
        pool_pre_ping=True,
        connect_args={
            "prepare_threshold": None,
            "connect_timeout": settings.db_connect_timeout,
            "application_name": "job-prep-functions",
        },
    )
    if settings.database_url is None:
        event.listen(built, "do_connect", _credentials_hook(settings))
    return built


engine: Engine = build_engine(get_settings())

# Errors that mean "the database is not reachable right now", not "your statement is wrong".
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


@contextmanager
def transaction() -> Iterator[Connection]:
    """One atomic unit of work: commits on success, rolls back on any exception."""
    try:
        with engine.begin() as conn:
            yield conn
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable() from exc
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable() from exc
        raise


def ping() -> None:
    """Check out the connection (pre-ping reconnects if needed) and run a trivial query."""
    with transaction() as conn:
        conn.execute(text("SELECT 1"))
