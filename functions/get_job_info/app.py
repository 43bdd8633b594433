"""GET /job-infos/{jobInfoId}"""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import responses
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import caller, path_id
from jobprep.api.resolver import make_resolver
from jobprep.job_infos.schemas import JobInfoOut
from jobprep.job_infos.service import get_job_info

app = make_resolver()


@app.get(
    "/job-infos/<jobInfoId>",
    summary="Get one of the caller's job infos",
    responses={200: {"description": "The job info", "content": {"application/json": {"model": JobInfoOut}}}},
    tags=["job infos"],
)
def get(jobInfoId: str) -> Response[Any]:  # noqa: N803 - the route's parameter name
    return responses.resource(get_job_info(caller(app).user_id, path_id(jobInfoId)))


lambda_handler = entrypoint(app)
