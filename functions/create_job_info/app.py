"""POST /job-infos: create a job info for the caller."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IdempotencyKey, caller
from jobprep.api.resolver import make_resolver
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoOut
from jobprep.job_infos.service import create_job_info
from jobprep.observability import metrics

app = make_resolver()


@app.post(
    "/job-infos",
    summary="Create a job info",
    responses=contract.declare(contract.created(JobInfoOut, "Created"), *contract.WITH_BODY),
    tags=["job infos"],
)
def create(body: Annotated[JobInfoCreate, Body()], idempotency_key: IdempotencyKey = None) -> Response[Any]:
    result = create_job_info(caller(app).user_id, body, idempotency_key)
    if not result.replayed:
        metrics.add_metric(name="JobInfoCreated", unit=MetricUnit.Count, value=1)
    return replies.created(result, f"/job-infos/{result.resource.id}")


lambda_handler = entrypoint(app)
