"""Request models: the limits and shapes the API promises, without a database."""

from typing import Any

import pytest
from pydantic import ValidationError

from jobprep.interviews.schemas import InterviewCreate, InterviewUpdate
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoUpdate
from jobprep.job_infos.tables import DESCRIPTION_MAX, NAME_MAX

VALID = {"name": "Role", "experienceLevel": "mid-level", "description": "Python"}


def error_locs(model: Any, data: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [e["loc"] for e in info.value.errors()]


def test_create_accepts_camel_case_and_trims() -> None:
    parsed = JobInfoCreate.model_validate({**VALID, "name": "  Role  ", "title": "Dev"})
    assert parsed.name == "Role"
    assert parsed.experience_level == "mid-level"
    assert parsed.model_dump() == {
        "name": "Role",
        "title": "Dev",
        "experience_level": "mid-level",
        "description": "Python",
    }


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"experienceLevel": "principal"}, ("experienceLevel",)),
        ({"name": ""}, ("name",)),
        ({"name": "   "}, ("name",)),
        ({"name": "x" * (NAME_MAX + 1)}, ("name",)),
        ({"description": "x" * (DESCRIPTION_MAX + 1)}, ("description",)),
        ({"name": 42}, ("name",)),
        ({"name": "nul\x00byte"}, ("name",)),
        ({"description": "lone \ud800 surrogate"}, ("description",)),
        ({"experience_level": "junior"}, ("experience_level",)),  # snake_case key is unknown
        ({"isAdmin": True}, ("isAdmin",)),
    ],
)
def test_create_rejects(patch: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert loc in error_locs(JobInfoCreate, {**VALID, **patch})


def test_create_requires_fields() -> None:
    assert set(error_locs(JobInfoCreate, {})) == {("name",), ("experienceLevel",), ("description",)}


def test_patch_keeps_only_present_fields_and_allows_clearing_title() -> None:
    parsed = JobInfoUpdate.model_validate({"title": None})
    assert parsed.changes() == {"title": None}


@pytest.mark.parametrize("field", ["name", "experienceLevel", "description"])
def test_patch_rejects_null_for_required_columns(field: str) -> None:
    assert error_locs(JobInfoUpdate, {field: None}) == [(field,)]


def test_patch_needs_at_least_one_field() -> None:
    assert error_locs(JobInfoUpdate, {}) == [()]
    assert error_locs(InterviewUpdate, {}) == [()]


def test_interview_duration_format() -> None:
    assert InterviewCreate.model_validate({}).duration == "00:00:00"
    assert InterviewUpdate.model_validate({"duration": "01:59:59"}).changes() == {"duration": "01:59:59"}
    for bad in ["1:00:00", "00:60:00", "00:00:60", "00:00", "aa:bb:cc", "00:00:00\n"]:
        assert error_locs(InterviewUpdate, {"duration": bad}) == [("duration",)], bad
    assert error_locs(InterviewUpdate, {"duration": None}) == [("duration",)]


def test_interview_update_allows_clearing_feedback() -> None:
    assert InterviewUpdate.model_validate({"feedback": None, "humeChatId": "c1"}).changes() == {
        "feedback": None,
        "hume_chat_id": "c1",
    }
