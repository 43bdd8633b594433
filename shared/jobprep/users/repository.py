"""SQL for users: one statement per operation. The upsert runs for Clerk's user.created and
user.updated; GET /me reads the profile, the plan usage and the interview bucket in one SELECT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert

from jobprep import binds, cache_tags, rate_limit, unit_of_work, webhook_deliveries
from jobprep.binds import BUCKET, CLERK_CREATED_AT, CLERK_UPDATED_AT, DELIVERY_ID, DELIVERY_TYPE, OWNER
from jobprep.db import reads
from jobprep.errors import EmailInUse
from jobprep.events import outbox
from jobprep.plan_usage import plan_usage
from jobprep.prebuilt import Prebuilt, constant, cte
from jobprep.records import Record
from jobprep.users.schemas import UserProfile
from jobprep.users.tables import deleted_users, users

SOURCE = "job-prep.users"
# users.email's unique constraint (revision 0003): the one violation an upsert turns into a 409.
EMAIL_CONSTRAINT = "uq_users_email"
PROFILE = ("name", "email", "image_url", "created_at", "updated_at")  # what a delivery sets


_VALUES = {
    **{c: binds.value_of(users.c[c]) for c in ("name", "email", "image_url")},
    "created_at": CLERK_CREATED_AT,
    "updated_at": CLERK_UPDATED_AT,
}


class Upserted(Enum):
    WRITTEN = "written"  # inserted, or updated with a newer profile: UserUpserted was sent
    STALE = "stale"  # not newer than the stored profile (Svix delivered it out of order): ignored
    TOMBSTONED = "tombstoned"  # the account was deleted here: ignored, it stays deleted
    REPEATED = "repeated"  # this delivery id was acted on before: nothing done


def _upsert() -> Select[Any]:
    recorded = webhook_deliveries.record()
    tombstoned = exists(select(deleted_users.c.id).where(deleted_users.c.id == OWNER))
    row = select(OWNER.label("id"), *(_VALUES[c].label(c) for c in PROFILE)).where(
        exists(select(recorded.c.id)), ~tombstoned
    )
    statement = insert(users).from_select(["id", *PROFILE], row)
    newer = statement.on_conflict_do_update(
        index_elements=[users.c.id],
        set_={c: statement.excluded[c] for c in PROFILE},
        where=users.c.updated_at < statement.excluded.updated_at,
    )
    written = cte(
        newer.returning(users.c.id),
        "upserted",
        "the user, inserted or updated with a newer profile (an older one, a tombstoned id or a repeated"
        " delivery writes nothing)",
    )
    event = outbox.enqueue(
        written,
        source=SOURCE,
        detail_type="UserUpserted",
        resource_id=written.c.id,
        user_id=written.c.id,
        tags=cache_tags.as_json(cache_tags.user_tags(written.c.id)),
    )
    # No FROM: always exactly one row.
    return select(
        select(func.count().label("rows")).select_from(recorded).scalar_subquery().label("recorded"),
        tombstoned.label("tombstoned"),
        select(func.count().label("rows")).select_from(written).scalar_subquery().label("written"),
        *(select(event.c[c]).scalar_subquery().label(c) for c in outbox.EVENT_COLUMNS),
    )


_UPSERT = unit_of_work.change_statement(
    "upsert_user",
    "Clerk's user.created / user.updated: the user inserted or updated unless the stored profile is as new"
    " or the account was deleted, UserUpserted when it was written, and the delivery's record.",
    _upsert(),
)


def upsert(profile: UserProfile, delivery_id: str, delivery_type: str) -> Upserted:
    """Raises EmailInUse when another user holds the email (nothing is written, not even the
    delivery's record, so a retry of it is acted on)."""
    params = {
        OWNER.key: profile.id,
        DELIVERY_ID.key: delivery_id,
        DELIVERY_TYPE.key: delivery_type,
        **{_VALUES[c].key: getattr(profile, c) for c in PROFILE},
    }
    try:
        row = unit_of_work.change(_UPSERT, params)
    except sa_exc.IntegrityError as exc:
        # psycopg's diagnostics name the constraint (a concurrent upsert of the same id cannot
        # violate anything: ON CONFLICT (id) takes care of it).
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == EMAIL_CONSTRAINT:
            raise EmailInUse() from exc
        raise
    assert row is not None  # a statement without FROM returns its one row
    if not row.recorded:
        return Upserted.REPEATED
    if row.tombstoned:
        return Upserted.TOMBSTONED
    return Upserted.WRITTEN if row.written else Upserted.STALE


@dataclass(frozen=True, slots=True)
class MeRecord(Record):
    id: str | None  # NULL: no users row (the webhook has not arrived)
    name: str | None
    email: str | None
    image_url: str | None
    created_at: datetime | None
    updated_at: datetime | None
    interviews_used: int
    questions_used: int
    interview_tokens: int
    next_interview_token_at: datetime | None


def _me() -> Select[Any]:
    one = cte(select(constant(1).label("one")), "one", "exactly one answer row, whatever happened")
    tokens, next_at = rate_limit.report()
    bucket = rate_limit.rate_limit_buckets
    return select(
        *(users.c[c] for c in ("id", *PROFILE)),
        func.coalesce(plan_usage.c.interviews, constant(0)).label("interviews_used"),
        func.coalesce(plan_usage.c.questions, constant(0)).label("questions_used"),
        tokens.label("interview_tokens"),
        next_at.label("next_interview_token_at"),
    ).select_from(
        one.outerjoin(users, users.c.id == OWNER)
        .outerjoin(plan_usage, plan_usage.c.user_id == OWNER)
        .outerjoin(bucket, and_(bucket.c.user_id == OWNER, bucket.c.bucket == BUCKET))
    )


_ME = Prebuilt(
    "get_me",
    "read",
    "GET /me: the caller's profile (NULLs until Clerk's webhook has arrived), plan usage and interview"
    " rate-limit bucket (whole tokens now, the next one's time), one row whatever exists.",
    _me(),
)


def me(user_id: str) -> MeRecord:
    rows = reads.fetch(_ME, rate_limit.interview_params(user_id))
    return MeRecord.of(rows[0])
