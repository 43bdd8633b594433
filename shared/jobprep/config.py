"""Environment variables as one validated, immutable model.

Read once per container: a bad or missing variable fails the cold start loudly instead
of the first request that happens to need it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # Exactly one way to the database: a URL (local), a Secrets Manager secret holding the URL
    # (DatabaseMode=external, e.g. Neon), or host/name/user with IAM tokens (aurora, RDS Proxy).
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    database_url_secret: str | None = Field(default=None, alias="DATABASE_URL_SECRET")  # name or ARN
    db_host: str | None = Field(default=None, alias="DB_HOST")
    db_port: int = Field(default=5432, alias="DB_PORT")
    db_name: str = Field(default="jobprep", alias="DB_NAME")
    db_user: str = Field(default="jobprep", alias="DB_USER")
    db_iam_auth: bool = Field(default=False, alias="DB_IAM_AUTH")
    db_sslmode: str = Field(default="require", alias="DB_SSLMODE")
    # The API keeps the 5 s default, well inside its 10 s Lambda timeout, and answers 503 with
    # Retry-After while an Aurora or Neon compute resumes; the migration and the relay wait it out
    # (template.yaml gives them 30 s and one more attempt).
    db_connect_timeout: int = Field(default=5, ge=1, le=60, alias="DB_CONNECT_TIMEOUT")
    db_connect_retries: int = Field(default=0, ge=0, le=3, alias="DB_CONNECT_RETRIES")

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)

    # Clerk-style features claim ("u:1_interview,u:unlimited_interviews"), as the original app's plans.
    plan_features_claim: str = Field(default="fea", alias="PLAN_FEATURES_CLAIM")
    rate_limit_capacity: int = Field(default=12, ge=1, alias="RATE_LIMIT_CAPACITY")
    rate_limit_refill_per_day: float = Field(default=4.0, gt=0, alias="RATE_LIMIT_REFILL_PER_DAY")

    # How long the function that made a change has to publish its event before the relay may.
    outbox_inline_grace_seconds: int = Field(default=120, ge=1, le=3600, alias="OUTBOX_INLINE_GRACE_SECONDS")
    outbox_batch_size: int = Field(default=10, ge=1, le=10, alias="OUTBOX_BATCH_SIZE")
    outbox_retention_hours: int = Field(default=72, ge=1, alias="OUTBOX_RETENTION_HOURS")
    idempotency_ttl_hours: int = Field(default=24, ge=1, alias="IDEMPOTENCY_TTL_HOURS")
    # Where a function asks for a relay run when events are left pending (unset: nobody asks).
    relay_wakeup_queue_url: str | None = Field(default=None, alias="RELAY_WAKEUP_QUEUE_URL")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        # The template sets every variable in both database modes, the unused ones to "".
        return {k: v for k, v in data.items() if v != ""} if isinstance(data, dict) else data

    # The identity provider's webhook signing secret (whsec_...): in AWS a Secrets Manager ARN,
    # locally the value itself. Only the webhook function reads them.
    clerk_webhook_secret_arn: str | None = Field(default=None, alias="CLERK_WEBHOOK_SECRET_ARN")
    clerk_webhook_secret: SecretStr | None = Field(default=None, alias="CLERK_WEBHOOK_SECRET")
    # Processed webhook ids are kept longer than Svix keeps retrying one message (about 28 hours).
    webhook_delivery_retention_hours: int = Field(default=168, ge=48, alias="WEBHOOK_DELIVERY_RETENTION_HOURS")

    @model_validator(mode="after")
    def _one_way_to_the_database(self) -> Settings:
        ways = [
            self.database_url is not None,
            self.database_url_secret is not None,
            self.db_host is not None and self.db_iam_auth,
        ]
        if sum(ways) != 1:
            raise ValueError("set exactly one of DATABASE_URL, DATABASE_URL_SECRET, or DB_HOST with DB_IAM_AUTH=true")
        return self


@cache
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
