"""POST /job-infos/{jobInfoId}/questions: the plan's question limit, optional Idempotency-Key."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IdempotencyKey, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.observability import metrics
from jobprep.questions.schemas import QuestionCreate, QuestionOut
from jobprep.questions.service import create_question

app = make_resolver()


@app.post(
    "/job-infos/<jobInfoId>/questions",
    summary="Add a practice question to one of the caller's job infos",
    responses=contract.declare(
        contract.created(QuestionOut, "Created"), *contract.WITH_BODY, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND
    ),
    tags=["questions"],
)
def create(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    body: QuestionCreate,
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    who = caller(app)
    result = create_question(who.user_id, who.features, path_id(jobInfoId), body, idempotency_key)
    if not result.replayed:
        metrics.add_metric(name="QuestionCreated", unit=MetricUnit.Count, value=1)
    return replies.created(result, f"/questions/{result.resource.id}")


lambda_handler = entrypoint(app)
