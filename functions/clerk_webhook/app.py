"""POST /webhooks/clerk: the identity provider's webhooks. No JWT on this route: the Svix
signature authenticates the request. `user.created` and `user.updated` store the user's profile,
`user.deleted` removes all of that user's data; every other event type is acknowledged and ignored."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from jobprep.api import clerk, contract, replies
from jobprep.api.entrypoint import entrypoint
from jobprep.api.errors import ErrorBody
from jobprep.api.resolver import make_resolver
from jobprep.cascades.service import delete_user_data
from jobprep.observability import logger, metrics
from jobprep.users.service import Upserted, sync_user

app = make_resolver()

# The shared declarations, with this route's own 401 and 409: the Svix signature stands in for the
# JWT, and a 409 makes Svix retry a delivery that came before the one it depends on.
DECLARED = contract.declare(
    contract.no_content("Processed, a repeat of a processed message, a stale or ignored one, or an ignored type"),
    *contract.WITH_BODY,
)
DECLARED[401] = contract.json_body(
    ErrorBody, "Unauthorized: missing or invalid Svix signature, or a timestamp more than 5 minutes off"
)
DECLARED[HTTPStatus.CONFLICT] = contract.json_body(
    ErrorBody,
    "Conflict: user.created / user.updated gives an email another user still holds (EMAIL_IN_USE); nothing"
    " changed, and Svix retries the delivery later",
)
DECLARED = dict(sorted(DECLARED.items()))

PROFILE_EVENTS = ("user.created", "user.updated")


@app.post(
    "/webhooks/clerk",
    summary="Clerk webhook (Svix-signed): user.created / user.updated store the user, user.deleted removes"
    " all of the user's data",
    responses=DECLARED,
    tags=["webhooks"],
)
def receive() -> Response[Any]:
    body = clerk.raw_body(app.current_event)
    message_id = clerk.verify(body, app.current_event.headers)
    event = clerk.parse(clerk.ClerkEvent, body)
    if event.type in PROFILE_EVENTS:
        profile = clerk.parse(clerk.ClerkUser, event.data, loc=("body", "data")).profile()
        outcome = sync_user(profile, message_id, event.type)
        logger.info(
            "user synced",
            extra={"svix_id": message_id, "type": event.type, "user_id": profile.id, "outcome": outcome.value},
        )
        if outcome is Upserted.WRITTEN:
            metrics.add_metric(name="UserUpserted", unit=MetricUnit.Count, value=1)
        return replies.no_content()
    if event.type != "user.deleted":
        logger.info("webhook ignored", extra={"svix_id": message_id, "type": event.type})
        return replies.no_content()
    user = clerk.parse(clerk.DeletedUser, event.data, loc=("body", "data"))
    result = delete_user_data(user.id, message_id, event.type)
    logger.info("user data deleted", extra={"svix_id": message_id, "user_id": user.id, **vars(result)})
    if not result.repeated:
        metrics.add_metric(name="UserDataDeleted", unit=MetricUnit.Count, value=1)
    return replies.no_content()


lambda_handler = entrypoint(app)
