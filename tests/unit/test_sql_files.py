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
