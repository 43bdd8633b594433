"""GET /questions/{questionId}: 304 when If-None-Match holds the current ETag."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfNoneMatch, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.questions.schemas import QuestionOut
from jobprep.questions.service import get_question

app = make_resolver()


@app.get(
    "/questions/<questionId>",
    summary="Get one of the caller's practice questions",
    responses=contract.declare(
        contract.ok(QuestionOut, "The question", etag=True), HTTPStatus.NOT_MODIFIED, HTTPStatus.NOT_FOUND
    ),
    tags=["questions"],
)
def get(questionId: str, if_none_match: IfNoneMatch = None) -> Response[Any]:  # noqa: N803 - the route's parameter name
    return replies.resource(get_question(caller(app).user_id, path_id(questionId)), if_none_match)


lambda_handler = entrypoint(app)
