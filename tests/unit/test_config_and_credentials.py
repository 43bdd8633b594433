"""Settings validation and how AWS credentials reach the connection (Secrets Manager, IAM tokens)."""

import base64
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError
from sqlalchemy import event

from jobprep.config import Settings
from jobprep.db.credentials import database_url
from jobprep.db.credentials import password_provider as _credentials_hook
from jobprep.db.engine import _on_checkout, build_engine

AWS_DB = {"EVENT_BUS_NAME": "bus", "DB_HOST": "proxy.example.internal", "DB_USER": "app", "DB_NAME": "jobprep"}


def test_missing_required_settings_fail_loudly() -> None:
    with pytest.raises(ValidationError, match="EVENT_BUS_NAME"):
        Settings.model_validate({"DATABASE_URL": "postgresql://x/y"})
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings.model_validate({"EVENT_BUS_NAME": "bus"})
    with pytest.raises(ValidationError, match="DB_SECRET_ARN or DB_IAM_AUTH"):
        Settings.model_validate(AWS_DB)


def test_local_url_gets_the_psycopg_driver() -> None:
    settings = Settings.model_validate({"EVENT_BUS_NAME": "b", "DATABASE_URL": "postgresql://u:p@h:5433/d"})
    assert database_url(settings).render_as_string(hide_password=False) == "postgresql+psycopg://u:p@h:5433/d"


def test_aws_url_requires_tls_and_has_no_password() -> None:
    settings = Settings.model_validate({**AWS_DB, "DB_IAM_AUTH": "true"})
    url = database_url(settings)
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
def test_secret_is_read_when_connecting() -> None:
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="db", SecretString=json.dumps({"username": "rotated_user", "password": "s3cret"})
    )["ARN"]
    settings = Settings.model_validate({**AWS_DB, "DB_SECRET_ARN": arn})
    cparams: dict[str, Any] = {"user": "app"}
    _credentials_hook(settings)(None, None, None, cparams)
    assert cparams == {"user": "rotated_user", "password": "s3cret"}


@mock_aws
def test_iam_auth_token_is_generated_per_connection() -> None:
    settings = Settings.model_validate({**AWS_DB, "DB_IAM_AUTH": "true"})
    cparams: dict[str, Any] = {}
    _credentials_hook(settings)(None, None, None, cparams)
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
