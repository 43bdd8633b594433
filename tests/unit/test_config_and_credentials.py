"""Settings validation and how AWS credentials reach the connection: IAM tokens for the RDS
Proxy (DatabaseMode=aurora) or a Secrets Manager secret holding the URL (external)."""

import base64
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError
from sqlalchemy import event

from jobprep.config import Settings
from jobprep.db.credentials import connect_params_from_url, database_url
from jobprep.db.credentials import password_provider as _credentials_hook
from jobprep.db.engine import _on_checkout, build_engine

AURORA = {"EVENT_BUS_NAME": "bus", "DB_HOST": "proxy.example.internal", "DB_USER": "app", "DB_NAME": "jobprep"}
# What the template sets in each mode: every variable present, the other mode's ones blank.
TEMPLATE_AURORA = {**AURORA, "DB_PORT": "5432", "DB_IAM_AUTH": "true", "DATABASE_URL_SECRET": ""}
TEMPLATE_EXTERNAL = {
    "EVENT_BUS_NAME": "bus",
    "DB_HOST": "",
    "DB_PORT": "5432",
    "DB_NAME": "",
    "DB_USER": "",
    "DB_IAM_AUTH": "false",
    "DATABASE_URL_SECRET": "jobprep/dev/database-url",
}
NEON_URL = "postgresql://app:s3cret@ep-cool-1234-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require"


def test_missing_required_settings_fail_loudly() -> None:
    with pytest.raises(ValidationError, match="EVENT_BUS_NAME"):
        Settings.model_validate({"DATABASE_URL": "postgresql://x/y"})
    with pytest.raises(ValidationError, match="exactly one of DATABASE_URL, DATABASE_URL_SECRET"):
        Settings.model_validate({"EVENT_BUS_NAME": "bus"})
    with pytest.raises(ValidationError, match="DB_HOST with DB_IAM_AUTH=true"):
        Settings.model_validate(AURORA)  # a host without a way to authenticate
    with pytest.raises(ValidationError, match="exactly one"):
        Settings.model_validate({**TEMPLATE_AURORA, "DATABASE_URL_SECRET": "also-a-secret"})


def test_both_template_modes_validate_with_blank_variables() -> None:
    aurora = Settings.model_validate(TEMPLATE_AURORA)
    assert (aurora.db_iam_auth, aurora.database_url_secret) == (True, None)
    external = Settings.model_validate(TEMPLATE_EXTERNAL)
    assert (external.db_iam_auth, external.db_host, external.database_url_secret) == (
        False,
        None,
        "jobprep/dev/database-url",
    )


def test_local_url_gets_the_psycopg_driver() -> None:
    settings = Settings.model_validate({"EVENT_BUS_NAME": "b", "DATABASE_URL": "postgresql://u:p@h:5433/d"})
    assert database_url(settings).render_as_string(hide_password=False) == "postgresql+psycopg://u:p@h:5433/d"


def test_aurora_url_requires_tls_and_has_no_password() -> None:
    url = database_url(Settings.model_validate(TEMPLATE_AURORA))
    assert url.password is None
    assert url.query["sslmode"] == "require"
    assert (url.host, url.port, url.username, url.database) == ("proxy.example.internal", 5432, "app", "jobprep")


def test_engine_is_one_pooled_connection_without_prepared_statements() -> None:
    engine = build_engine(Settings.model_validate({"EVENT_BUS_NAME": "b", "DATABASE_URL": "postgresql://u@h/d"}))
    assert engine.pool.size() == 1  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    # liveness is checked by our checkout listener (ping unless just used and untouched)
    assert event.contains(engine, "checkout", _on_checkout)


@mock_aws
def test_iam_auth_token_is_generated_per_connection() -> None:
    cparams: dict[str, Any] = {}
    _credentials_hook(Settings.model_validate(TEMPLATE_AURORA))(None, None, None, cparams)
    token = cparams["password"]
    assert token.startswith("proxy.example.internal:5432/?Action=connect&DBUser=app")
    assert "X-Amz-Signature=" in token


@mock_aws
def test_webhook_signing_secret_is_read_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobprep.api import clerk
    from jobprep.config import get_settings
    from jobprep_local.clerk import signed, user_deleted

    secret = "whsec_" + base64.b64encode(b"the deployed endpoint's key").decode()
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="clerk-webhook", SecretString=secret
    )["ARN"]
    monkeypatch.setenv("CLERK_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.delenv("CLERK_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        assert clerk.signing_secret() == secret
        body, headers = signed(user_deleted("alice"), secret)
        assert clerk.verify(body, headers) == headers["svix-id"]
    finally:
        get_settings.cache_clear()


def test_settings_never_show_the_webhook_secret() -> None:
    settings = Settings.model_validate(
        {"EVENT_BUS_NAME": "b", "DATABASE_URL": "postgresql://x/y", "CLERK_WEBHOOK_SECRET": "whsec_abc"}
    )
    assert "whsec_abc" not in repr(settings)


def test_url_secret_becomes_connect_params() -> None:
    assert connect_params_from_url(NEON_URL, "require") == {
        "host": "ep-cool-1234-pooler.eu-central-1.aws.neon.tech",
        "user": "app",
        "password": "s3cret",
        "dbname": "neondb",
        "sslmode": "require",
        "channel_binding": "require",
    }
    # TLS unless the URL itself says otherwise
    assert connect_params_from_url("postgres://u:p@h:6543/d", "require")["sslmode"] == "require"
    assert connect_params_from_url("postgresql://u@h/d?sslmode=verify-full", "require")["sslmode"] == "verify-full"


@pytest.mark.parametrize("value", ["", "not a url", "mysql://u:p@h/d", '{"password": "x"}'])
def test_a_secret_without_a_postgres_url_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(ValueError, match="does not hold a postgresql:// URL") as raised:
        connect_params_from_url(value, "require")
    assert "password" not in str(raised.value)


@mock_aws
def test_url_secret_is_read_when_connecting() -> None:
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="jobprep/dev/database-url", SecretString=NEON_URL
    )
    cparams: dict[str, Any] = {"connect_timeout": 5}
    _credentials_hook(Settings.model_validate(TEMPLATE_EXTERNAL))(None, None, None, cparams)
    assert cparams["host"] == "ep-cool-1234-pooler.eu-central-1.aws.neon.tech"
    assert (cparams["user"], cparams["password"], cparams["sslmode"]) == ("app", "s3cret", "require")
    assert cparams["connect_timeout"] == 5  # the engine's own connect args survive
