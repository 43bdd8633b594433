"""The Powertools resolver every API function registers its one route on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from jobprep.api import errors
from jobprep.errors import DomainError

_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Resolver(APIGatewayHttpResolver):
    """Powertools' resolver, noting whether any route changes data: such a function publishes
    events, so its entrypoint creates the EventBridge client during INIT (api.entrypoint)."""

    changes_data = False

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        methods = [method] if isinstance(method, str) else list(method)
        if any(m.upper() in _CHANGING_METHODS for m in methods):
            self.changes_data = True
        return super().route(rule, method, *args, **kwargs)


def make_resolver() -> Resolver:
    app = Resolver(enable_validation=True)
    app.exception_handler(DomainError)(errors.on_domain_error)
    app.exception_handler(RequestValidationError)(errors.on_request_validation)
    app.exception_handler(RequestUnsupportedContentType)(errors.on_unsupported_content_type)
    app.exception_handler(RecursionError)(errors.on_recursion_error)
    app.exception_handler(NotFoundError)(errors.on_route_not_found)
    app.exception_handler(ServiceError)(errors.on_service_error)
    app.exception_handler(Exception)(errors.on_unexpected)
    return app
