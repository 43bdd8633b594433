"""sql/: every prebuilt statement, rendered. Committed, equal to what the code builds, stable
from run to run, and made only of named binds and commented CTEs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from jobprep import binds, prebuilt
from jobprep_local.sql import drift, rendered, write


def test_the_committed_files_are_what_the_code_builds() -> None:
    assert drift() == [], "sql/ differs from the code's statements: run `make sql` and commit sql/"


def test_drift_names_each_kind_of_difference(tmp_path: Path) -> None:
    write(tmp_path)
    assert drift(tmp_path) == []
    (tmp_path / "get_job_info.sql").write_text((tmp_path / "get_job_info.sql").read_text().replace("owner", "0wner"))
    (tmp_path / "list_job_infos.sql").unlink()
    (tmp_path / "gone.sql").write_text("SELECT 1\n")
    assert drift(tmp_path) == [
        "list_job_infos.sql: missing",
        "gone.sql: no statement has this name any more",
        "get_job_info.sql: differs",
    ]
    assert sorted(write(tmp_path)) == ["get_job_info.sql", "gone.sql", "list_job_infos.sql"]
    assert drift(tmp_path) == []


def test_the_rendering_does_not_depend_on_the_process_or_its_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"PYTHONHASHSEED": "12345", "OUTBOX_INLINE_GRACE_SECONDS": "7"}
    check = subprocess.run(
        [sys.executable, "-m", "jobprep_local.sql", "--check"], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_placeholder_is_a_bind_defined_in_binds() -> None:
    """No anonymous parameters (param_1, concat_2...): their names would change with the
    statement's shape, and their values would be invisible in the file."""
    rendered()  # imports every module, so the catalog is complete
    for statement in prebuilt.catalog():
        unknown = set(prebuilt.placeholders(statement.sql)) - binds.defined()
        assert not unknown, f"{statement.name}: {sorted(unknown)}"


def test_an_anonymous_bind_is_caught() -> None:
    text = prebuilt.render("planted", "read", "a literal() slipped in", select(literal(1).label("one")))
    assert set(prebuilt.placeholders(text)) - binds.defined() == {"param_1"}


def test_a_cte_without_a_comment_cannot_be_rendered() -> None:
    statement = select(select(literal(1).label("x")).cte("uncommented").c.x)
    with pytest.raises(ValueError, match="'uncommented' has no comment"):
        prebuilt.render("planted", "read", "a CTE built without prebuilt.cte", statement)


def test_a_cte_name_means_one_thing() -> None:
    with pytest.raises(ValueError, match="already means"):
        prebuilt.cte(select(prebuilt.constant(1)), "current", "something else")


def test_what_runs_is_the_committed_file_and_equals_the_compiled_statement() -> None:
    """A function runs sql/<name>.sql as committed (no SQLAlchemy compile in a function): the
    text, the bind numbering and the conversion of each bind's value must be what SQLAlchemy's
    compile of the statement gives."""
    rendered()  # imports every module, so the catalog is complete
    for statement in prebuilt.catalog():
        from_file = statement.driver_sql
        compiled = statement.compiled
        assert from_file is not compiled, f"{statement.name}: not read from its file"
        assert (from_file.text, from_file.binds) == (compiled.text, compiled.binds), statement.name
        assert [i for i, _ in from_file.converters] == [i for i, _ in compiled.converters], statement.name
        compiled_binds = prebuilt._compile(statement.statement).binds
        for name in from_file.binds:  # the type each value is converted by: jobprep.binds' and the statement's
            assert repr(binds.type_of(name)) == repr(compiled_binds[name].type), (statement.name, name)


def test_a_planted_stale_file_is_what_would_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the drift test matters: the file, not the code, is what runs."""
    write(tmp_path)
    stale = (tmp_path / "get_job_info.sql").read_text().replace("WHERE", "WHERE true AND", 1)
    (tmp_path / "get_job_info.sql").write_text(stale)
    monkeypatch.setattr(prebuilt, "SQL_DIR", tmp_path)
    statement = next(p for p in prebuilt.catalog() if p.name == "get_job_info")
    fresh = prebuilt.Prebuilt.driver_sql.func(statement)  # type: ignore[attr-defined]
    assert "WHERE true AND" in fresh.text
    assert drift(tmp_path) == ["get_job_info.sql: differs"]
