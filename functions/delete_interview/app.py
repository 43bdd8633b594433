"""DELETE /interviews/{interviewId}: the plan's unit it spent stays spent (no refund)."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfMatch, caller, parse_if_match, path_id
from jobprep.api.resolver import make_resolver
from jobprep.interviews.service import delete_interview
from jobprep.observability import metrics

app = make_resolver()


@app.delete(
    "/interviews/<interviewId>",
    summary="Delete one of the caller's interviews (the plan usage it spent is not refunded)",
    responses=contract.declare(contract.no_content("Deleted"), HTTPStatus.NOT_FOUND, HTTPStatus.PRECONDITION_FAILED),
    tags=["interviews"],
)
def delete(interviewId: str, if_match: IfMatch = None) -> Response[Any]:  # noqa: N803
    delete_interview(caller(app).user_id, path_id(interviewId), parse_if_match(if_match))
    metrics.add_metric(name="InterviewDeleted", unit=MetricUnit.Count, value=1)
    return replies.no_content()


lambda_handler = entrypoint(app)
