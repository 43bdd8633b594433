"""python -m jobprep_local.sql [--check]: every prebuilt statement rendered into sql/<name>.sql.

`make sql` writes them (and removes files no statement has any more); the tests fail while the
committed files differ from what the code builds, as they do for openapi.json. Each file is the
statement compiled for PostgreSQL as psycopg sends it, with a header and a comment above each
CTE (jobprep.prebuilt.render)."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

from jobprep_local.template import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "shared" / "jobprep" / "sql"  # in the layer; sql/ at the top is a link to it


def rendered() -> dict[str, str]:
    """File name -> text, for every prebuilt statement in the jobprep package."""
    # Importing jobprep builds the engine (it does not connect): any URL will do.
    os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://render@localhost/unused")
    os.environ.setdefault("EVENT_BUS_NAME", "unused")
    import jobprep
    from jobprep import prebuilt

    for module in pkgutil.walk_packages(jobprep.__path__, "jobprep."):
        if not module.name.startswith("jobprep.migrations"):  # Alembic's env runs on import
            importlib.import_module(module.name)
    return {f"{p.name}.sql": p.sql for p in prebuilt.catalog()}


def drift(directory: Path = SQL_DIR) -> list[str]:
    """How `directory` differs from what the code builds (empty: it is up to date)."""
    wanted = rendered()
    found = {p.name: p.read_text() for p in directory.glob("*.sql")} if directory.is_dir() else {}
    problems = [f"{name}: missing" for name in sorted(wanted.keys() - found.keys())]
    problems += [f"{name}: no statement has this name any more" for name in sorted(found.keys() - wanted.keys())]
    problems += [f"{name}: differs" for name in sorted(wanted.keys() & found.keys()) if wanted[name] != found[name]]
    return problems


def write(directory: Path = SQL_DIR) -> list[str]:
    """Bring `directory` up to date; the files changed, added or removed."""
    wanted = rendered()
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for stale in sorted(directory.glob("*.sql")):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale.name)
    for name, text in sorted(wanted.items()):
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobprep_local.sql", description=__doc__)
    parser.add_argument("--output", type=Path, default=SQL_DIR)
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1 when there is some)")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.output)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for name in write(args.output):
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
