"""GET /job-infos: the caller's job infos, newest first, cursor-paginated."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from jobprep.api import contract, replies
from jobprep.api.cursor import CURSOR_MAX, decode_cursor
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import caller
from jobprep.api.resolver import make_resolver
from jobprep.job_infos.schemas import JobInfoPage
from jobprep.job_infos.service import list_job_infos
from jobprep.keyset import DEFAULT_LIMIT, MAX_LIMIT

app = make_resolver()


@app.get(
    "/job-infos",
    summary="List the caller's job infos, most recently updated first",
    responses=contract.declare(contract.ok(JobInfoPage, "A page of job infos")),
    tags=["job infos"],
)
def list_(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response[Any]:
    items, next_page = list_job_infos(caller(app).user_id, limit, decode_cursor(cursor))
    return replies.page(items, next_page)


lambda_handler = entrypoint(app)
