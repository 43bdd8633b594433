"""Conditional writes: every update and delete of a caller's row, guarded by If-Match, in one
statement with its event, and run again when it lost a race.

    WITH current AS (the caller's row),
         updated AS (UPDATE ... WHERE id = current.id AND If-Match holds AND a value differs
                     RETURNING ...)              -- or deleted AS (DELETE ... RETURNING ...)
         event AS (INSERT INTO outbox ... FROM updated)
    SELECT the written row, true AS written, false AS wanted, its event
    UNION ALL
    SELECT the current row, false, whether it still wants the write, no event
    WHERE nothing was written

Decoded once, in write(): no row is 404; a written row is the answer; a current row whose
version If-Match does not name is 412; one a refusal names (a rule of the resource the change
would break, checked in the UPDATE's WHERE too) raises that refusal's error; one that still
wants the write lost a race (it changed between the statement's snapshot and its write) and is
run again; anything else had nothing to change (a PATCH naming what is already there: no new
version, no event).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Delete,
    Select,
    Table,
    Update,
    and_,
    any_,
    case,
    exists,
    false,
    func,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import update as sql_update

from jobprep import unit_of_work
from jobprep.binds import IF_MATCH, new_value_of, set_flag
from jobprep.errors import Contended, DomainError, NotFound, PreconditionFailed
from jobprep.events.outbox import EVENT_COLUMNS
from jobprep.prebuilt import Prebuilt, constant, cte

# A lost race is run again: the next run sees the new version and answers 412 or "nothing to change".
ATTEMPTS = 3

EventOf = Callable[[CTE], CTE]


@dataclass(frozen=True)
class Refusal:
    """A rule of the resource a change must not break: `broken(row)` over a row's columns (the
    table's inside the UPDATE, so it holds for the version written; the snapshot's in the answer,
    to say why nothing was written) is true when the change would break it: `error` is raised."""

    error: type[DomainError]
    broken: Callable[[Any], ColumnElement[bool]]


# A refusal decided by a write of its own in the same statement (e.g. a plan unit spent on the
# user's usage row, which serialises that user's concurrent writes): given the current row and
# whether If-Match holds for it, the Refusal whose broken() reads that write's CTE.
RefusalOf = Callable[[CTE, ColumnElement[bool]], Refusal]


class ConditionalWrite:
    """One resource's update or delete (see update() and delete())."""

    def __init__(self, prebuilt: Prebuilt, refusals: Sequence[Refusal] = ()) -> None:
        self.prebuilt = prebuilt
        self._refusals = {r.error.code: r.error for r in refusals}

    def write(self, params: Mapping[str, Any], if_match: Collection[int] | None) -> Any:
        """The written row, or the current one when there was nothing to change.
        Raises NotFound, PreconditionFailed, or Contended (a race lost three times)."""
        sent = {**params, IF_MATCH.key: None if if_match is None else list(if_match)}
        for _ in range(ATTEMPTS):
            row = unit_of_work.change(self.prebuilt, sent)
            if row is None:
                raise NotFound()  # missing or not the caller's: the same answer
            if row.written:
                return row
            if if_match is not None and row.version not in if_match:
                raise PreconditionFailed()
            refused = getattr(row, "refused", None)  # a column of statements built with refusals
            if refused is not None:
                raise self._refusals[refused]()
            if not row.wanted:
                return row  # nothing to change
        raise Contended()


def _if_match_holds(version: ColumnElement[int]) -> ColumnElement[bool]:
    # = ANY(array): one statement for any number of ETags in If-Match; NULL: no precondition.
    return or_(IF_MATCH.is_(None), version == any_(IF_MATCH))


def _statement(
    table: Table,
    current: CTE,
    write: Update | Delete,
    name: str,
    comment: str,
    wanted: ColumnElement[bool],
    event: EventOf,
    refusals: Sequence[Refusal] = (),
) -> Any:
    columns = list(current.c.keys())
    written = cte(write.returning(*(table.c[c] for c in columns)), name, comment)
    ev = event(written)
    # Only statements with refusals answer `refused` (the others' SQL stays as it was).
    why: list[ColumnElement[Any]] = []
    if refusals:
        reasons = [(r.broken(current.c), constant(r.error.code)) for r in refusals]
        why = [case(*reasons, else_=null()).label("refused")]
    return union_all(
        select(
            *(written.c[c] for c in columns),
            true().label("written"),
            false().label("wanted"),
            *([null().label("refused")] if why else []),
            *(ev.c[c] for c in EVENT_COLUMNS),
        ).select_from(written.join(ev, true())),
        select(
            *(current.c[c] for c in columns),
            false().label("written"),
            wanted.label("wanted"),
            *why,
            *(null().label(c) for c in EVENT_COLUMNS),
        ).where(~exists(select(written.c.id))),
    )


def _current(row: Select[Any]) -> CTE:
    return cte(row, "current", "the caller's row as this statement's snapshot sees it (none: 404)")


def update(
    name: str,
    about: str,
    table: Table,
    row: Select[Any],
    settable: Sequence[str],
    event: EventOf,
    *,
    refusals: Sequence[Refusal | RefusalOf] = (),
) -> ConditionalWrite:
    """`row` selects the caller's row (ownership applied) with the columns to answer with,
    id and version among them. Each settable column is set when its ``set_<column>`` flag is
    (binds.changes builds them); the version moves only when a value differs. `refusals` are
    checked in that order, after If-Match; a RefusalOf is built on this statement's current row."""
    current = _current(row)
    holds = _if_match_holds(current.c.version)
    rules = [r if isinstance(r, Refusal) else r(current, holds) for r in refusals]
    columns = [table.c[n] for n in settable]
    differs = or_(*(and_(set_flag(c), c.is_distinct_from(new_value_of(c))) for c in columns))
    values: dict[str, Any] = {c.name: case((set_flag(c), new_value_of(c)), else_=c) for c in columns}
    values.update(version=table.c.version + constant(1), updated_at=func.now())
    write = (
        sql_update(table)
        .where(
            table.c.id == select(current.c.id).scalar_subquery(),
            _if_match_holds(table.c.version),
            differs,
            *(~r.broken(table.c) for r in rules),
        )
        .values(values)
    )
    wanted = or_(*(and_(set_flag(c), current.c[c.name].is_distinct_from(new_value_of(c))) for c in columns))
    comment = "the change, made only if If-Match holds and some value differs"
    statement = _statement(table, current, write, "updated", comment, wanted, event, rules)
    return ConditionalWrite(unit_of_work.change_statement(name, about, statement), rules)


def delete(name: str, about: str, table: Table, row: Select[Any], event: EventOf) -> ConditionalWrite:
    """`row` selects the caller's row (ownership applied) with id and version."""
    current = _current(row)
    write = table.delete().where(table.c.id == select(current.c.id).scalar_subquery(), _if_match_holds(table.c.version))
    comment = "the delete, made only if If-Match holds"
    statement = _statement(table, current, write, "deleted", comment, true(), event)
    return ConditionalWrite(unit_of_work.change_statement(name, about, statement))
