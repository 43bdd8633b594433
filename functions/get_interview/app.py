"""GET /interviews/{interviewId}"""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.http import current_caller, entrypoint, make_resolver, versioned
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
    caller = current_caller(app)
    return versioned(get_interview(caller.user_id, interviewId))


lambda_handler = entrypoint(app)
