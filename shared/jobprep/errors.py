"""Domain errors. They carry no HTTP knowledge: jobprep.api.errors maps each type to a status."""

from __future__ import annotations


class DomainError(Exception):
    code = "ERROR"
    message = "Request failed"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    message = "Missing or invalid identity"


class InvalidWebhookSignature(Unauthenticated):
    """A webhook without a valid signature of the identity provider (or signed too long ago)."""

    code = "INVALID_SIGNATURE"
    message = "Missing or invalid webhook signature"


class NotFound(DomainError):
    # Same answer for "does not exist" and "belongs to someone else": nothing leaks.
    code = "NOT_FOUND"
    message = "Resource not found"


class PreconditionFailed(DomainError):
    code = "PRECONDITION_FAILED"
    message = "If-Match does not match the current version"


class InvalidInput(DomainError):
    """Input that passed schema validation but is still unusable (bad cursor, bad If-Match)."""

    code = "VALIDATION_ERROR"

    def __init__(self, loc: tuple[str | int, ...], message: str, error_type: str = "value_error") -> None:
        super().__init__(message)
        self.loc = loc
        self.error_type = error_type


class EmailInUse(DomainError):
    """Another user holds the email a Clerk webhook gives this one: deliveries out of order (an
    email moved between two accounts, the other account's change still on its way). Svix retries
    the delivery later, by then usually in order."""

    code = "EMAIL_IN_USE"
    message = "Another user holds this email address; retry once that user's change has arrived"


class HumeChatIdWriteOnce(DomainError):
    """humeChatId is what the plan counts: once set it stays (clearing it would refund the plan)."""

    code = "HUME_CHAT_ID_WRITE_ONCE"
    message = "humeChatId is set once: it cannot be cleared or changed"


class InterviewNotCompleted(DomainError):
    """Feedback on an interview that never reached Hume (no humeChatId), as the original refuses."""

    code = "INTERVIEW_NOT_COMPLETED"
    message = "Interview has not been completed yet"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "Idempotency-Key was already used with a different request"


class PlanLimitReached(DomainError):
    code = "PLAN_LIMIT"
    message = "You have reached your plan limit. Upgrade to create more interviews."


class RateLimited(DomainError):
    code = "RATE_LIMIT"
    message = "Too many interviews created. Try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class DatabaseUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    message = "The database is unavailable, retry shortly"
    retry_after_seconds = 5


class Contended(DatabaseUnavailable):
    """A row kept changing under a conditional update (in practice it never takes three tries)."""

    message = "The resource is being changed concurrently, retry shortly"
    retry_after_seconds = 1
