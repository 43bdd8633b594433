"""GET /interviews/{interviewId}"""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import responses
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.schemas import InterviewOut
from jobprep.interviews.service import get_interview

app = make_resolver()


@app.get(
    "/interviews/<interviewId>",
    summary="Get one of the caller's interviews",
    responses={200: {"description": "The interview", "content": {"application/json": {"model": InterviewOut}}}},
    tags=["interviews"],
)
def get(interviewId: str) -> Response[Any]:  # noqa: N803 - the route's parameter name
    return responses.resource(get_interview(caller(app).user_id, path_id(interviewId)))


lambda_handler = entrypoint(app)
