"""Question request/response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from jobprep.questions.tables import TEXT_MAX, Difficulty
from jobprep.schemas import ApiInput, ApiOutput, Page, Storable, bounded_text

QuestionText = Annotated[str, bounded_text(TEXT_MAX), Storable]


class QuestionCreate(ApiInput):
    """As the original's questions table: the question's text (the web app's generated
    markdown) and its difficulty."""

    text: QuestionText = Field(examples=["Explain how a Python generator differs from a list."])
    difficulty: Difficulty


class QuestionOut(ApiOutput):
    id: UUID
    job_info_id: UUID
    text: str
    difficulty: Difficulty
    created_at: datetime
    updated_at: datetime


class QuestionPage(Page):
    """Oldest first (createdAt, then id)."""

    items: list[QuestionOut]
