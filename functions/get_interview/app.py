"""GET /interviews/{interviewId}: 304 when If-None-Match holds the current ETag."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfNoneMatch, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.schemas import InterviewOut
from jobprep.interviews.service import get_interview

app = make_resolver()


@app.get(
    "/interviews/<interviewId>",
    summary="Get one of the caller's interviews",
    responses=contract.declare(
        contract.ok(InterviewOut, "The interview", etag=True), HTTPStatus.NOT_MODIFIED, HTTPStatus.NOT_FOUND
    ),
    tags=["interviews"],
)
def get(interviewId: str, if_none_match: IfNoneMatch = None) -> Response[Any]:  # noqa: N803 - the route's parameter name
    return replies.resource(get_interview(caller(app).user_id, path_id(interviewId)), if_none_match)


lambda_handler = entrypoint(app)
