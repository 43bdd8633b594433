"""GET /job-infos/{jobInfoId}/questions: oldest first, cursor-paginated; 304 when If-None-Match
holds the ETag of the page it would send."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from jobprep.api import contract, replies
from jobprep.api.cursor import CURSOR_MAX, decode_cursor
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfNoneMatch, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.keyset import DEFAULT_LIMIT, MAX_LIMIT
from jobprep.questions.schemas import QuestionPage
from jobprep.questions.service import list_questions

app = make_resolver()


@app.get(
    "/job-infos/<jobInfoId>/questions",
    summary="List the practice questions of one of the caller's job infos, oldest first",
    responses=contract.declare(
        contract.ok_by_content(QuestionPage, "A page of questions, oldest first"), HTTPStatus.NOT_FOUND
    ),
    tags=["questions"],
)
def list_(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    if_none_match: IfNoneMatch = None,
) -> Response[Any]:
    items, next_page = list_questions(caller(app).user_id, path_id(jobInfoId), limit, decode_cursor(cursor))
    return replies.page_by_content(QuestionPage, items, next_page, if_none_match)


lambda_handler = entrypoint(app)
