"""Migrations as a deploy step: what the SchemaMigration custom resource asks for.

* Upgrade to the revision the template names, never past it and never down: a rollback (or a
  re-run) that names a revision the database already has is a no-op, so no data is dropped
  and an old template can't undo a newer schema.
* Bounded in time: one transaction (reading the current revision included) runs with a
  statement and lock timeout inside the function's remaining time, so PostgreSQL cancels and
  rolls back server-side (no half-applied DDL holding locks after Lambda kills the function)
  and the failure is reported normally.
* The timeouts are SET LOCAL (``set_config(..., true)``): they end with the transaction. Behind a
  transaction-mode pooler (PgBouncer, Neon's -pooler endpoint) a session setting would be lost
  between transactions, and left behind on a pooled backend that API traffic reuses.
"""

from __future__ import annotations

from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from jobprep.migrations import script_directory, upgrade_on

# A migration waits at most this long for a lock: queuing behind live traffic for longer would
# block every request that arrives after it (PostgreSQL queues them behind the DDL's lock).
LOCK_TIMEOUT_MS = 5_000
_SET_LOCAL = text("SELECT set_config('statement_timeout', :statement, true), set_config('lock_timeout', :lock, true)")


class UnknownRevision(ValueError):
    pass


def _heads(conn: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(conn).get_current_heads())


def migrate_to(engine: Engine, revision: str, *, budget_ms: int) -> str:
    """Bring the schema to at least `revision` (an explicit revision id) within `budget_ms`.
    Returns the database's revision afterwards."""
    script = script_directory()
    try:
        known = script.get_revision(revision)
    except Exception as exc:  # alembic raises several resolution errors for bad ids
        raise UnknownRevision(f"SchemaRevision {revision!r} is not a migration revision") from exc
    if known is None or known.revision != revision:  # "head", "base", a prefix...
        raise UnknownRevision(f"SchemaRevision must be an explicit revision id, not {revision!r}")

    budget = max(budget_ms, 100)
    # One transaction: Alembic runs inside the caller's (PostgreSQL's DDL is transactional, so a
    # failure anywhere leaves the schema as it was), and the SET LOCAL covers all of it.
    with engine.connect() as conn:
        conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            conn.execute(_SET_LOCAL, {"statement": str(budget), "lock": str(min(LOCK_TIMEOUT_MS, budget))})
            current = _heads(conn)
            reached = {r.revision for r in script.iterate_revisions(current, "base") if r is not None}
            if revision not in reached:
                upgrade_on(conn, revision)
            return ",".join(_heads(conn))
