"""PATCH /interviews/{interviewId}: duration, humeChatId, feedback; optional If-Match."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.http import IfMatch, current_caller, entrypoint, make_resolver, metrics, parse_if_match, versioned
from jobprep.interviews.schemas import InterviewOut, InterviewUpdate
from jobprep.interviews.service import update_interview

app = make_resolver()


@app.patch(
    "/interviews/<interviewId>",
    summary="Update one of the caller's interviews",
    responses={200: {"description": "The updated interview", "content": {"application/json": {"model": InterviewOut}}}},
    tags=["interviews"],
)
def update(
    interviewId: str,  # noqa: N803 - the route's parameter name
    body: Annotated[InterviewUpdate, Body()],
    if_match: IfMatch = None,
) -> Response[Any]:
    caller = current_caller(app)
    result = update_interview(caller.user_id, interviewId, body, parse_if_match(if_match))
    metrics.add_metric(name="InterviewUpdated", unit=MetricUnit.Count, value=1)
    return versioned(result)


lambda_handler = entrypoint(app)
