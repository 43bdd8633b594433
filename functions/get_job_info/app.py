"""GET /job-infos/{jobInfoId}: 304 when If-None-Match holds the current ETag."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfNoneMatch, caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.job_infos.schemas import JobInfoOut
from jobprep.job_infos.service import get_job_info

app = make_resolver()


@app.get(
    "/job-infos/<jobInfoId>",
    summary="Get one of the caller's job infos",
    responses=contract.declare(
        contract.ok(JobInfoOut, "The job info", etag=True), HTTPStatus.NOT_MODIFIED, HTTPStatus.NOT_FOUND
    ),
    tags=["job infos"],
)
def get(jobInfoId: str, if_none_match: IfNoneMatch = None) -> Response[Any]:  # noqa: N803 - the route's parameter name
    return replies.resource(get_job_info(caller(app).user_id, path_id(jobInfoId)), if_none_match)


lambda_handler = entrypoint(app)
