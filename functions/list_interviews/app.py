"""GET /job-infos/{jobInfoId}/interviews"""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from jobprep.api import contract, replies
from jobprep.api.cursor import CURSOR_MAX, decode_cursor
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.schemas import InterviewPage
from jobprep.interviews.service import list_interviews
from jobprep.keyset import DEFAULT_LIMIT, MAX_LIMIT

app = make_resolver()


@app.get(
    "/job-infos/<jobInfoId>/interviews",
    summary="List the interviews of one of the caller's job infos",
    responses=contract.declare(contract.ok(InterviewPage, "A page of interviews"), HTTPStatus.NOT_FOUND),
    tags=["interviews"],
)
def list_(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response[Any]:
    items, next_page = list_interviews(caller(app).user_id, path_id(jobInfoId), limit, decode_cursor(cursor))
    return replies.page(items, next_page)


lambda_handler = entrypoint(app)
