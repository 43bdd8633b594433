"""GET /job-infos/{jobInfoId}/interviews"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from jobprep.http import current_caller, entrypoint, make_resolver, ok
from jobprep.interviews.schemas import InterviewPage
from jobprep.interviews.service import list_interviews
from jobprep.pagination import CURSOR_MAX, DEFAULT_LIMIT, MAX_LIMIT

app = make_resolver()


@app.get(
    "/job-infos/<jobInfoId>/interviews",
    summary="List the interviews of one of the caller's job infos",
    responses={200: {"description": "A page of interviews", "content": {"application/json": {"model": InterviewPage}}}},
    tags=["interviews"],
)
def list_(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response[Any]:
    caller = current_caller(app)
    return ok(list_interviews(caller.user_id, jobInfoId, limit, cursor))


lambda_handler = entrypoint(app)
