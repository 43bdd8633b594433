"""The dev server's webhook: the request EventBridge's API destination sends to the web app.

template.yaml is the one place that says what that request is: the revalidate rule's event
pattern and input transformer (the body), the API destination's HTTP method and the connection's
API-key header name. This module reads them from there; the local bus (eventbus.py) applies the
same rule and transformer to every event, and `send` makes the request with the headers
EventBridge documents for API destinations. The key's value is a dev secret (DEV_WEBHOOK_API_KEY),
standing in for the stack's generated RevalidateApiKeySecret. See docs/revalidation.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from jobprep_local.template import TEMPLATE_PATH, load_template

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import InputTransformerTypeDef

# The key `make dev` sends unless DEV_WEBHOOK_API_KEY says otherwise; the example consumer's
# REVALIDATE_API_KEY must match. Only for local development: in AWS the stack generates the key.
DEFAULT_DEV_API_KEY = "local-dev-revalidate-key"

# "Headers included in requests to API destinations" (EventBridge user guide); httpx adds Host
# and Content-Length, the connection adds the API-key header.
API_DESTINATION_HEADERS = {
    "User-Agent": "Amazon/EventBridge/ApiDestinations",
    "Content-Type": "application/json; charset=utf-8",
    "Range": "bytes=0-1048575",
    "Accept-Encoding": "gzip,deflate",
    "Connection": "close",
}
# EventBridge gives up on an endpoint that takes longer than this.
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class RevalidateTarget:
    event_pattern: dict[str, Any]
    input_transformer: InputTransformerTypeDef  # InputPathsMap and InputTemplate, as in the template
    http_method: str
    api_key_header: str


def revalidate_target(path: Path = TEMPLATE_PATH) -> RevalidateTarget:
    resources = load_template(path)["Resources"]
    rule = resources["RevalidateRule"]["Properties"]
    (target,) = rule["Targets"]
    destination = resources["RevalidateApiDestination"]["Properties"]
    connection = resources["RevalidateConnection"]["Properties"]
    wiring = (target["Arn"], destination["ConnectionArn"], connection["AuthorizationType"])
    if wiring != (
        {"Fn::GetAtt": ["RevalidateApiDestination", "Arn"]},
        {"Fn::GetAtt": ["RevalidateConnection", "Arn"]},
        "API_KEY",
    ):
        raise ValueError(
            f"template.yaml: RevalidateRule -> ApiDestination -> API_KEY Connection expected, got {wiring}"
        )
    transformer = target["InputTransformer"]
    return RevalidateTarget(
        event_pattern=rule["EventPattern"],
        input_transformer={
            "InputPathsMap": {str(k): str(v) for k, v in transformer["InputPathsMap"].items()},
            "InputTemplate": str(transformer["InputTemplate"]),
        },
        http_method=destination["HttpMethod"],
        api_key_header=connection["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyName"],
    )


def minified(transformed: str) -> bytes:
    """EventBridge passes the transformed input on minified (user guide, input transformation)."""
    return json.dumps(json.loads(transformed), separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(target: RevalidateTarget, api_key: str) -> dict[str, str]:
    return {**API_DESTINATION_HEADERS, target.api_key_header: api_key}


def send(client: httpx.Client, url: str, target: RevalidateTarget, api_key: str, transformed: str) -> httpx.Response:
    request = client.build_request(
        target.http_method, url, content=minified(transformed), headers=request_headers(target, api_key)
    )
    del request.headers["accept"]  # httpx's default; EventBridge sends none
    return client.send(request)


def retried_by_eventbridge(status: int) -> bool:
    """API destinations retry 429 and 5xx answers (and timeouts); other answers are final."""
    return status == 429 or status >= 500
