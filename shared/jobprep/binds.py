"""Every bind parameter of every prebuilt statement: one name and one type each, defined here.

Statements use these objects; callers key their values with ``.key`` (``{OWNER.key: user_id}``),
so a name is spelled once. A column's value has a name derived from the column: ``<column>``
in a new row, ``set_<column>`` (whether to change it) and ``new_<column>`` in a change.
Fixed values (a source name, a tag prefix) are not binds but SQL constants (prebuilt.constant).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Uuid,
    bindparam,
)
from sqlalchemy.types import TypeEngine

_defined: dict[str, BindParameter[Any]] = {}


def _bind(name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    existing = _defined.get(name)
    if existing is not None:
        # Reused for another column of the same name only when it binds the same kind of value.
        if type(existing.type) is not type(type_) or getattr(existing.type, "name", None) != getattr(
            type_, "name", None
        ):
            raise ValueError(f"bind {name!r} is already defined as {existing.type!r}")
        return existing
    _defined[name] = bind = bindparam(name, type_=type_)
    return bind


def defined() -> frozenset[str]:
    """Every bind name there is (the rendered SQL may use no other)."""
    return frozenset(_defined)


def type_of(name: str) -> TypeEngine[Any]:
    """The type of the bind called `name` (how its value is converted before it is sent)."""
    try:
        return _defined[name].type
    except KeyError:
        raise ValueError(f"no bind is called {name!r} (jobprep.binds defines them)") from None


# Who asks, and which row.
OWNER = _bind("owner_id", String())  # the caller's user id (JWT `sub`)
JOB_INFO_ID = _bind("job_info_id", Uuid())
INTERVIEW_ID = _bind("interview_id", Uuid())
QUESTION_ID = _bind("question_id", Uuid())

# Preconditions and pages.
IF_MATCH = _bind("if_match", ARRAY(Integer()))  # the versions If-Match names; NULL: no precondition
AFTER_AT = _bind("after_at", DateTime(timezone=True))  # keyset position: sort key of the last row seen
AFTER_ID = _bind("after_id", Uuid())  # ... and its id
PAGE_ROWS = _bind("page_rows", Integer())  # a page's size plus one (the extra row says "more")

# Create-once (Idempotency-Key).
IDEMPOTENCY_KEY = _bind("idempotency_key", String())  # NULL: no key, nothing recorded
OPERATION = _bind("operation", String())
REQUEST_HASH = _bind("request_hash", String())

# Plan and rate limit (create interview).
PLAN_LIMIT = _bind("plan_limit", Integer())  # units the caller's plan allows (plan_usage.spend); NULL: unlimited
BUCKET = _bind("bucket", String())
CAPACITY = _bind("capacity", Float())
PER_SECOND = _bind("per_second", Float())

# Clerk's times of a user's profile (users.created_at / updated_at). Not named after the columns:
# in a statement that also updates the outbox (sent_receipts), created_at would read as the
# outbox's column.
CLERK_CREATED_AT = _bind("clerk_created_at", DateTime(timezone=True))
CLERK_UPDATED_AT = _bind("clerk_updated_at", DateTime(timezone=True))

# Webhook deliveries (account deletion).
DELIVERY_ID = _bind("delivery_id", String())
DELIVERY_TYPE = _bind("delivery_type", String())

# The outbox.
EVENT_ID = _bind("event_id", Uuid())  # the event a change statement writes
OCCURRED_AT = _bind("occurred_at", String())
OUTBOX_GRACE = _bind("outbox_grace_seconds", Integer())  # the inline publisher's head start on the relay
SENT_EVENT_IDS = _bind("sent_event_ids", ARRAY(Uuid()))
ERROR = _bind("error", String())
BATCH_SIZE = _bind("batch_size", Integer())
RETRY_EARLY = _bind("retry_early", Boolean())  # EventBridge accepts again: failed rows need not wait out backoff
OLDER_THAN = _bind("older_than_seconds", Integer())  # housekeeping: the age past which rows go


def value_of(column: Column[Any]) -> BindParameter[Any]:
    """The column's value in a new row."""
    return _bind(column.name, column.type)


def set_flag(column: Column[Any]) -> BindParameter[Any]:
    """Whether a change sets the column (a PATCH names only some fields)."""
    return _bind(f"set_{column.name}", Boolean())


def new_value_of(column: Column[Any]) -> BindParameter[Any]:
    """The column's value after a change (when its set_ flag is true)."""
    return _bind(f"new_{column.name}", column.type)


def values(table: Table, data: Mapping[str, Any]) -> dict[str, Any]:
    """A new row's values, keyed by their binds' names."""
    return {_value_key(table, name): value for name, value in data.items()}


@cache  # per request otherwise: a table's columns and their binds never change
def _value_key(table: Table, name: str) -> str:
    return value_of(table.c[name]).key


def changes(table: Table, settable: Collection[str], data: Mapping[str, Any]) -> dict[str, Any]:
    """A change's values: every settable column gets its flag, the ones in `data` their new value."""
    unknown = set(data) - set(settable)
    if unknown:
        raise ValueError(f"not settable: {sorted(unknown)}")
    params: dict[str, Any] = {}
    for name in settable:
        column = table.c[name]
        params[set_flag(column).key] = name in data
        params[new_value_of(column).key] = data.get(name)
    return params
