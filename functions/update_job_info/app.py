"""PATCH /job-infos/{jobInfoId}: partial update, optional If-Match."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfMatch, caller, parse_if_match, path_id
from jobprep.api.resolver import make_resolver
from jobprep.job_infos.schemas import JobInfoOut, JobInfoUpdate
from jobprep.job_infos.service import update_job_info
from jobprep.observability import metrics

app = make_resolver()


@app.patch(
    "/job-infos/<jobInfoId>",
    summary="Update one of the caller's job infos",
    responses=contract.declare(
        contract.ok(JobInfoOut, "The updated job info (unchanged, same ETag, when nothing differed)", etag=True),
        *contract.WITH_BODY,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.PRECONDITION_FAILED,
    ),
    tags=["job infos"],
)
def update(
    jobInfoId: str,  # noqa: N803 - the route's parameter name
    body: Annotated[JobInfoUpdate, Body()],
    if_match: IfMatch = None,
) -> Response[Any]:
    result = update_job_info(caller(app).user_id, path_id(jobInfoId), body, parse_if_match(if_match))
    if result.changed:
        metrics.add_metric(name="JobInfoUpdated", unit=MetricUnit.Count, value=1)
    return replies.resource(result)


lambda_handler = entrypoint(app)
