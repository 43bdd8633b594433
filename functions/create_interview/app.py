"""POST /job-infos/{jobInfoId}/interviews: plan limit, rate limit, optional Idempotency-Key."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IdempotencyKey, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.schemas import InterviewCreate, InterviewOut
from jobprep.interviews.service import create_interview
from jobprep.observability import metrics

app = make_resolver()


@app.post(
    "/job-infos/<jobInfoId>/interviews",
    summary="Start an interview for one of the caller's job infos",
    responses=contract.declare(
        contract.created(InterviewOut, "Created"), *contract.WITH_BODY, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND
    ),
    tags=["interviews"],
)
def create(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    body: Annotated[InterviewCreate | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    who = caller(app)
    # All fields have defaults, so an empty body starts an interview, as the original app did.
    data = body if body is not None else InterviewCreate()
    result = create_interview(who.user_id, who.features, path_id(jobInfoId), data, idempotency_key)
    if not result.replayed:
        metrics.add_metric(name="InterviewCreated", unit=MetricUnit.Count, value=1)
    return replies.created(result, f"/interviews/{result.resource.id}")


lambda_handler = entrypoint(app)
