"""The Powertools resolver every API function registers its one route on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from jobprep.api import binding, errors
from jobprep.errors import DomainError

_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Resolver(APIGatewayHttpResolver):
    """Powertools' resolver for routing and the OpenAPI document, its validation middlewares off:
    each route's arguments are read by a jobprep.api.binding built when the route is registered
    (the function's INIT), with Powertools' own field models. It also notes whether any route
    changes data: such a function publishes events, so its entrypoint creates the EventBridge
    client during INIT (api.entrypoint)."""

    changes_data = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (rule, method, the route function as written), in order
        self.registered: list[tuple[str, Any, Callable[..., Any]]] = []

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        methods = [method] if isinstance(method, str) else list(method)
        if any(m.upper() in _CHANGING_METHODS for m in methods):
            self.changes_data = True
        register = super().route(rule, method, *args, **kwargs)

        def bind_and_register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.registered.append((rule, method, func))
            register(binding.bound(rule, func, lambda: self.current_event))
            return func

        return bind_and_register


def make_resolver() -> Resolver:
    app = Resolver(enable_validation=False)
    add_error_handlers(app)
    return app


def add_error_handlers(app: APIGatewayHttpResolver) -> None:
    """The API's error responses, for a Powertools exception or a domain error."""
    app.exception_handler(DomainError)(errors.on_domain_error)
    app.exception_handler(RequestValidationError)(errors.on_request_validation)
    app.exception_handler(RequestUnsupportedContentType)(errors.on_unsupported_content_type)
    app.exception_handler(RecursionError)(errors.on_recursion_error)
    app.exception_handler(NotFoundError)(errors.on_route_not_found)
    app.exception_handler(ServiceError)(errors.on_service_error)
    app.exception_handler(Exception)(errors.on_unexpected)
