"""Job info request/response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from jobprep.job_infos.tables import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX, ExperienceLevel
from jobprep.schemas import ApiInput, ApiOutput, ApiPatch, Page, Storable, bounded_text

Name = Annotated[str, bounded_text(NAME_MAX), Storable]
Title = Annotated[str, bounded_text(TITLE_MAX), Storable]
Description = Annotated[str, bounded_text(DESCRIPTION_MAX), Storable]


class JobInfoCreate(ApiInput):
    name: Name = Field(examples=["Acme backend role"])
    title: Title | None = Field(default=None, examples=["Senior Python Engineer"])
    experience_level: ExperienceLevel
    description: Description


class JobInfoUpdate(ApiPatch):
    """`title` may be set to null to clear it; the other fields may only be replaced."""

    non_nullable: ClassVar[frozenset[str]] = frozenset({"name", "experience_level", "description"})

    name: Name | None = None
    title: Title | None = None
    experience_level: ExperienceLevel | None = None
    description: Description | None = None


class JobInfoOut(ApiOutput):
    id: UUID
    name: str
    title: str | None
    experience_level: ExperienceLevel
    description: str
    created_at: datetime
    updated_at: datetime


class JobInfoPage(Page):
    items: list[JobInfoOut]
