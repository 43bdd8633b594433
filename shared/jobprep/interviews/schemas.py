"""Interview request/response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints

from jobprep.interviews.tables import DURATION_PATTERN, FEEDBACK_MAX, HUME_CHAT_ID_MAX
from jobprep.schemas import ApiInput, ApiOutput, ApiPatch, Page, Storable, bounded_text

Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
HumeChatId = Annotated[str, bounded_text(HUME_CHAT_ID_MAX), Storable]
Feedback = Annotated[str, bounded_text(FEEDBACK_MAX), Storable]


class InterviewCreate(ApiInput):
    duration: Duration = Field(default="00:00:00", examples=["00:12:34"])
    hume_chat_id: HumeChatId | None = None


class InterviewUpdate(ApiPatch):
    """As the original updateInterview: duration, humeChatId and feedback."""

    non_nullable: ClassVar[frozenset[str]] = frozenset({"duration"})

    duration: Duration | None = None
    hume_chat_id: HumeChatId | None = None
    feedback: Feedback | None = None


class InterviewOut(ApiOutput):
    id: UUID
    job_info_id: UUID
    duration: str
    hume_chat_id: str | None
    feedback: str | None
    created_at: datetime
    updated_at: datetime


class InterviewPage(Page):
    items: list[InterviewOut]
