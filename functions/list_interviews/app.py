"""GET /job-infos/{jobInfoId}/interviews: most recently updated first; ?completed=true only those
with a humeChatId."""

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
    summary="List the interviews of one of the caller's job infos, most recently updated first",
    responses=contract.declare(contract.ok(InterviewPage, "A page of interviews"), HTTPStatus.NOT_FOUND),
    tags=["interviews"],
)
def list_(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    completed: Annotated[
        bool, Query(description="true: only the interviews that took place (those with a humeChatId)")
    ] = False,
) -> Response[Any]:
    user_id, job_info_id = caller(app).user_id, path_id(jobInfoId)
    items, next_page = list_interviews(user_id, job_info_id, limit, decode_cursor(cursor), completed=completed)
    return replies.page(items, next_page)


lambda_handler = entrypoint(app)
