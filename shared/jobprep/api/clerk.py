"""The identity provider's webhooks (Clerk, delivered by Svix): signature check and payloads.

The route has no JWT authorizer; the Svix signature is its authentication. Verification is
the svix library's: HMAC-SHA256 over ``<svix-id>.<svix-timestamp>.<raw body>`` with the
endpoint's signing secret, and a timestamp within 5 minutes of now. The body is parsed only
after that, so an unsigned request learns nothing but 401.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self, TypeVar

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from svix.webhooks import Webhook, WebhookVerificationError

from jobprep.config import get_settings
from jobprep.errors import InvalidWebhookSignature
from jobprep.identity import is_valid_user_id
from jobprep.users.schemas import UserProfile
from jobprep.users.tables import EMAIL_MAX, IMAGE_URL_MAX, NAME_MAX
from jobprep.webhook_deliveries import DELIVERY_ID_MAX

SECRET_CACHE_SECONDS = 300  # a rolled signing secret is picked up within 5 minutes


def signing_secret() -> str:
    """In AWS from Secrets Manager (plain-text secret holding ``whsec_...``, cached by
    Powertools); locally from CLERK_WEBHOOK_SECRET."""
    settings = get_settings()
    if settings.clerk_webhook_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        secret = get_secret(settings.clerk_webhook_secret_arn, max_age=SECRET_CACHE_SECONDS)
        return secret.decode() if isinstance(secret, bytes) else str(secret)
    if settings.clerk_webhook_secret is not None:
        return settings.clerk_webhook_secret.get_secret_value()
    raise RuntimeError("set CLERK_WEBHOOK_SECRET_ARN (AWS) or CLERK_WEBHOOK_SECRET (local)")


def raw_body(event: BaseProxyEvent) -> bytes:
    """The body exactly as sent: the signature covers these bytes."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise InvalidWebhookSignature() from exc
    return body.encode()


def verify(body: bytes, headers: Mapping[str, str]) -> str:
    """Raises InvalidWebhookSignature unless a signature in `svix-signature` matches and
    `svix-timestamp` is within 5 minutes; returns the message id (`svix-id`)."""
    webhook = Webhook(signing_secret())  # outside the try: a malformed secret is our error, not a 401
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        webhook.verify(body, lowered)
    # ValueError: what the library lets through for a body that is not UTF-8 or a malformed header.
    except (WebhookVerificationError, ValueError) as exc:
        raise InvalidWebhookSignature() from exc
    # The library also accepts the Standard Webhooks header names; Svix's ids are short.
    message_id = lowered.get("svix-id") or lowered.get("webhook-id") or ""
    if len(message_id) > DELIVERY_ID_MAX:
        raise InvalidWebhookSignature()
    return message_id


def _user_id(value: str) -> str:
    if not is_valid_user_id(value):
        raise ValueError("not a user id")
    return value


class ClerkEvent(BaseModel):
    """The envelope of every Clerk webhook: {"type": "user.deleted", "data": {...}, ...}."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = Field(min_length=1, max_length=100)
    data: dict[str, Any]


class DeletedUser(BaseModel):
    """`data` of user.deleted: {"id": "user_...", "object": "user", "deleted": true}."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[str, AfterValidator(_user_id)]


def _storable(value: str) -> str:
    # PostgreSQL text holds neither NUL nor lone surrogates (JSON may carry "\ud800").
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


Text = Annotated[str, AfterValidator(_storable)]
# Clerk's times are milliseconds since the epoch; the upper bound is the last millisecond of 9999.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_999, strict=True)]


class EmailAddress(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(max_length=255)
    email_address: Annotated[Text, Field(min_length=3, max_length=EMAIL_MAX, pattern=r"^[^@\s]+@[^@\s]+$")]


class ClerkUser(BaseModel):
    """`data` of user.created / user.updated (Clerk's User object): what the users table keeps."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[str, AfterValidator(_user_id)]
    first_name: Annotated[Text, Field(max_length=NAME_MAX)] | None = None
    last_name: Annotated[Text, Field(max_length=NAME_MAX)] | None = None
    image_url: Annotated[Text, Field(max_length=IMAGE_URL_MAX)] = ""
    email_addresses: list[EmailAddress] = Field(default_factory=list, max_length=100)
    primary_email_address_id: str | None = Field(default=None, max_length=255)
    created_at: EpochMs
    updated_at: EpochMs

    @model_validator(mode="after")
    def _fits(self) -> Self:
        # Checked here so a payload the users table cannot hold is a 422, never a failed statement.
        if len(self.name) > NAME_MAX:
            raise ValueError(f"first_name and last_name together must have at most {NAME_MAX} characters")
        if self.primary_email is None:
            raise ValueError("no primary email address: primary_email_address_id names none of email_addresses")
        return self

    @property
    def name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip()

    @property
    def primary_email(self) -> str | None:
        found = (e.email_address for e in self.email_addresses if e.id == self.primary_email_address_id)
        return next(found, None)

    def profile(self) -> UserProfile:
        assert self.primary_email is not None  # checked by validation
        return UserProfile(
            id=self.id,
            name=self.name,
            email=self.primary_email,
            image_url=self.image_url,
            created_at=_EPOCH + timedelta(milliseconds=self.created_at),
            updated_at=_EPOCH + timedelta(milliseconds=self.updated_at),
        )


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: bytes | Mapping[str, Any], loc: tuple[str, ...] = ("body",)) -> M:
    """A signed payload that does not fit gets the project's 400 (not a JSON object) or 422."""
    try:
        if isinstance(raw, bytes):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": (*loc, *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        raise RequestValidationError(errors) from exc
