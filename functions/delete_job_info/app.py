"""DELETE /job-infos/{jobInfoId}: its interviews go with it (ON DELETE CASCADE)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.http import IfMatch, current_caller, entrypoint, make_resolver, metrics, no_content, parse_if_match
from jobprep.job_infos.service import delete_job_info

app = make_resolver()


@app.delete(
    "/job-infos/<jobInfoId>",
    summary="Delete one of the caller's job infos and its interviews",
    responses={204: {"description": "Deleted"}},
    tags=["job infos"],
)
def delete(jobInfoId: str, if_match: IfMatch = None) -> Response[Any]:  # noqa: N803
    caller = current_caller(app)
    delete_job_info(caller.user_id, jobInfoId, parse_if_match(if_match))
    metrics.add_metric(name="JobInfoDeleted", unit=MetricUnit.Count, value=1)
    return no_content()


lambda_handler = entrypoint(app)
