"""Where the engine's URL and password come from.

Locally a full ``DATABASE_URL``. In AWS host/name/user from the environment and the password
looked up each time a connection is opened (never at import), so a rotated secret or a
15-minute IAM token is picked up on the next reconnect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, make_url

from jobprep.config import Settings

DRIVER = "postgresql+psycopg"


def database_url(settings: Settings) -> URL:
    if settings.database_url:
        url = make_url(settings.database_url)
        return url.set(drivername=DRIVER) if url.drivername in ("postgresql", "postgres") else url
    return URL.create(
        DRIVER,
        username=settings.db_user,
        host=settings.db_host,
        port=settings.db_port,
        database=settings.db_name,
        query={"sslmode": settings.db_sslmode},
    )


def password_provider(settings: Settings) -> Any:
    """A ``do_connect`` listener that fills in the password (and user, from a secret)."""

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
