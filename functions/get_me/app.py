"""GET /me: the caller's profile, plan usage and allowances, and interview rate-limit tokens;
304 when If-None-Match holds the ETag of the current body."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api import contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.request import IfNoneMatch, caller
from jobprep.api.resolver import make_resolver
from jobprep.users.schemas import MeOut
from jobprep.users.service import get_me

app = make_resolver()


@app.get(
    "/me",
    summary="The caller: profile (null until Clerk's webhook has arrived), plan usage and allowances,"
    " whether an interview may start now, interview rate-limit tokens",
    responses=contract.declare(contract.ok_by_content(MeOut, "The caller's profile, plan and tokens")),
    tags=["me"],
)
def get(if_none_match: IfNoneMatch = None) -> Response[Any]:
    return replies.by_content(get_me(caller(app)), if_none_match)


lambda_handler = entrypoint(app)
