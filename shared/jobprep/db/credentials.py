"""Where the engine's URL and credentials come from.

* Locally a full ``DATABASE_URL``.
* ``DATABASE_URL_SECRET`` (DatabaseMode=external): a Secrets Manager secret whose value is a
  postgresql:// URL with credentials, e.g. a Neon pooled endpoint; read when a connection is
  opened, so a rotated URL is picked up on the next reconnect (Powertools caches it 5 minutes).
* ``DB_HOST`` + ``DB_IAM_AUTH`` (aurora): the RDS Proxy endpoint; the password is a 15-minute
  IAM token signed locally (no network call, no VPC endpoint) for each new connection, by an RDS
  client created once, when the engine is built (INIT), not by the first connect.

Nothing is fetched at import: a cold start never waits on Secrets Manager before it must.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, make_url

from jobprep.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

DRIVER = "postgresql+psycopg"


def database_url(settings: Settings) -> URL:
    if settings.database_url:
        url = make_url(settings.database_url)
        return url.set(drivername=DRIVER) if url.drivername in ("postgresql", "postgres") else url
    if settings.database_url_secret:
        return URL.create(DRIVER)  # everything comes from the secret when connecting
    return URL.create(
        DRIVER,
        username=settings.db_user,
        host=settings.db_host,
        port=settings.db_port,
        database=settings.db_name,
        query={"sslmode": settings.db_sslmode},
    )


def connect_params_from_url(value: str, default_sslmode: str) -> dict[str, Any]:
    """psycopg connect() keywords for a postgresql:// URL (TLS required unless the URL says otherwise)."""
    try:
        url = make_url(value.strip())
    except Exception:
        url = None
    if url is None or url.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError("the database URL secret does not hold a postgresql:// URL")  # never echo the value
    params: dict[str, Any] = dict(url.translate_connect_args(username="user", database="dbname"))
    params.update({key: str(v) if isinstance(v, str) else v[-1] for key, v in url.query.items()})
    params.setdefault("sslmode", default_sslmode)
    return params


@cache
def rds_client() -> RDSClient:
    import boto3  # lazy: only IAM-auth deployments pay for this import

    return boto3.client("rds")


def password_provider(settings: Settings) -> Any:
    """A ``do_connect`` listener that fills in the credentials for each new connection."""
    if settings.db_iam_auth:
        rds_client()  # at INIT: the engine is built at import

    def provide_credentials(_dialect: Any, _conn_rec: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if settings.db_iam_auth:
            cparams["password"] = rds_client().generate_db_auth_token(
                DBHostname=str(settings.db_host), Port=settings.db_port, DBUsername=settings.db_user
            )
        elif settings.database_url_secret:
            from aws_lambda_powertools.utilities.parameters import get_secret  # lazy, as above

            secret = get_secret(settings.database_url_secret, max_age=300)
            text = secret.decode() if isinstance(secret, bytes) else str(secret)
            cparams.update(connect_params_from_url(text, "require"))

    return provide_credentials
