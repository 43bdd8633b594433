"""DELETE /job-infos/{jobInfoId}: its interviews go with it (ON DELETE CASCADE)."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfMatch, caller, parse_if_match, path_id
from jobprep.api.resolver import make_resolver
from jobprep.cascades.service import delete_job_info
from jobprep.observability import metrics

app = make_resolver()


@app.delete(
    "/job-infos/<jobInfoId>",
    summary="Delete one of the caller's job infos and its interviews",
    responses=contract.declare(contract.no_content("Deleted"), HTTPStatus.NOT_FOUND, HTTPStatus.PRECONDITION_FAILED),
    tags=["job infos"],
)
def delete(jobInfoId: str, if_match: IfMatch = None) -> Response[Any]:  # noqa: N803
    delete_job_info(caller(app).user_id, path_id(jobInfoId), parse_if_match(if_match))
    metrics.add_metric(name="JobInfoDeleted", unit=MetricUnit.Count, value=1)
    return replies.no_content()


lambda_handler = entrypoint(app)
