"""Conditional, versioned updates in one statement, shared by every updatable resource.

``WITH current AS (the caller's row), updated AS (UPDATE ... WHERE id = current.id [AND version
= ANY(:if_match)] AND (some column IS DISTINCT FROM its new value) RETURNING ...), event AS
(INSERT INTO outbox ... FROM updated)`` then the updated row, or else the current one with what
is needed to tell 404, 412, "nothing to change" and "lost a race" apart. A PATCH that changes
nothing changes no version and writes no event.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    CompoundSelect,
    Row,
    Select,
    Table,
    any_,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)

from jobprep import unit_of_work
from jobprep.binds import IF_MATCH, OWNER, new_value_of
from jobprep.errors import Contended, NotFound, PreconditionFailed
from jobprep.events.outbox import EVENT_COLUMNS

# A lost race (the row changed between the statement's snapshot and its update) is re-run:
# the second run sees the new version and answers 412 or "nothing to change".
ATTEMPTS = 3


def statement(
    table: Table,
    current: Select[Any],
    columns: Sequence[str],
    changed: Collection[str],
    guarded: bool,
    event: Callable[[CTE], CTE],
) -> CompoundSelect[Any]:
    """`current` selects the caller's row (ownership applied) with `columns`, which include id
    and version; `changed` are the columns set from bind parameters ``new_<name>``."""
    cur = current.cte("current")
    differs = [table.c[n].is_distinct_from(new_value_of(table.c[n])) for n in sorted(changed)]
    conditions = [table.c.id == select(cur.c.id).scalar_subquery(), or_(*differs)]
    if guarded:  # = ANY(array): one statement for any number of ETags in If-Match
        conditions.append(table.c.version == any_(IF_MATCH))
    values: dict[str, Any] = {n: new_value_of(table.c[n]) for n in sorted(changed)}
    values.update(version=table.c.version + 1, updated_at=func.now())
    upd = update(table).where(*conditions).values(values).returning(*(table.c[c] for c in columns)).cte("updated")
    ev = event(upd)
    wanted = or_(*(cur.c[n].is_distinct_from(new_value_of(table.c[n])) for n in sorted(changed)))
    return union_all(
        select(
            *(upd.c[c] for c in columns),
            literal(True).label("changed"),
            literal(False).label("wanted"),
            *(ev.c[c] for c in EVENT_COLUMNS),
        ).select_from(upd.join(ev, true())),
        select(
            *(cur.c[c] for c in columns),
            literal(False),
            wanted,
            *(null() for _ in EVENT_COLUMNS),
        ).where(~exists(select(upd.c.id))),
    )


def outcome(row: Row[Any] | None, if_match: Collection[int] | None) -> Row[Any] | None:
    """The row to answer with (changed or not), or None when the statement lost a race."""
    if row is None:
        raise NotFound()  # missing or not the caller's: the same answer
    if row.changed:
        return row
    if if_match is not None and row.version not in if_match:
        raise PreconditionFailed()
    if row.wanted:
        return None
    return row  # nothing to change


class VersionedUpdate:
    """One resource's updates: statement() per set of changed columns (built on first use) and
    run() with the caller's id and the row's key."""

    def __init__(
        self,
        table: Table,
        current: Select[Any],
        columns: Sequence[str],
        key: BindParameter[Any],
        event: Callable[[CTE], CTE],
    ) -> None:
        self.table, self.current, self.columns, self.key, self.event = table, current, columns, key, event
        self._statements: dict[tuple[frozenset[str], bool], CompoundSelect[Any]] = {}

    def __call__(
        self, user_id: str, key: Any, changes: Mapping[str, Any], if_match: Collection[int] | None
    ) -> Row[Any]:
        shape = (frozenset(changes), if_match is not None)
        stmt = self._statements.get(shape)
        if stmt is None:
            stmt = self._statements[shape] = statement(
                self.table, self.current, self.columns, shape[0], shape[1], self.event
            )
        new_values = {new_value_of(self.table.c[name]).key: value for name, value in changes.items()}
        return run(stmt, {self.key.key: key, OWNER.key: user_id}, new_values, if_match)


def run(
    stmt: CompoundSelect[Any], keys: Mapping[str, Any], changes: Mapping[str, Any], if_match: Collection[int] | None
) -> Row[Any]:
    """Run an update built by statement() (`keys`: the caller's id and the row's): the row to
    answer with; a lost race is run again. Raises NotFound, PreconditionFailed or Contended."""
    params: dict[str, Any] = {**keys, **changes}
    if if_match is not None:
        params[IF_MATCH.key] = list(if_match)
    for _ in range(ATTEMPTS):
        row = outcome(unit_of_work.change(stmt, params), if_match)
        if row is not None:
            return row
    raise Contended()
