"""PATCH /interviews/{interviewId}: duration, humeChatId (set once; the first one needs a unit of
the caller's plan), feedback (once it has one); optional If-Match."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.errors import InterviewConflictBody
from jobprep.api.request import IfMatch, caller, parse_if_match, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.schemas import InterviewOut, InterviewUpdate
from jobprep.interviews.service import update_interview
from jobprep.observability import metrics

app = make_resolver()

# The shared declarations, with this route's own 409: the interview's state refuses the change.
DECLARED = contract.declare(
    contract.ok(InterviewOut, "The updated interview (unchanged, same ETag, when nothing differed)", etag=True),
    *contract.WITH_BODY,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.PRECONDITION_FAILED,
)
DECLARED[HTTPStatus.CONFLICT] = contract.json_body(
    InterviewConflictBody,
    "Conflict: humeChatId is already set and would be cleared or changed (HUME_CHAT_ID_WRITE_ONCE), or feedback on"
    " an interview without a humeChatId (INTERVIEW_NOT_COMPLETED); nothing changed",
)
DECLARED = dict(sorted(DECLARED.items()))


@app.patch(
    "/interviews/<interviewId>",
    summary="Update one of the caller's interviews",
    responses=DECLARED,
    tags=["interviews"],
)
def update(
    interviewId: str,  # noqa: N803 - the route's parameter name
    body: Annotated[InterviewUpdate, Body()],
    if_match: IfMatch = None,
) -> Response[Any]:
    who = caller(app)
    result = update_interview(who.user_id, who.features, path_id(interviewId), body, parse_if_match(if_match))
    if result.changed:
        metrics.add_metric(name="InterviewUpdated", unit=MetricUnit.Count, value=1)
    return replies.resource(result)


lambda_handler = entrypoint(app)
