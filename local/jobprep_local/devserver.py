"""`make dev`: the template's routes on 127.0.0.1 without Docker or an AWS account.

Requests go through the same steps as in AWS: JWT check (as the HTTP API authorizer), an
HTTP API v2 event, the function's real `lambda_handler`; the functions talk to an embedded
PostgreSQL and, through boto3, to a local EventBridge (moto).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jobprep_local.auth import DevKeys, bearer_token, claims_as_api_gateway
from jobprep_local.eventbus import LocalEventBus
from jobprep_local.invoke import LocalApi
from jobprep_local.openapi import build_openapi
from jobprep_local.scheduler import LocalScheduler
from jobprep_local.template import PROJECT_ROOT, functions, load_template
from jobprep_local.webhook import DEFAULT_DEV_API_KEY

DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"
BUS_NAME = "job-prep-local"
DATABASE = "jobprep"


@dataclass(frozen=True)
class DevConfig:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path = DEFAULT_DATA_DIR
    webhook_url: str | None = None
    webhook_api_key: str = DEFAULT_DEV_API_KEY
    schedule_scale: float = 1.0


def start_database(data_dir: Path) -> tuple[str, Any]:
    """DATABASE_URL when set; otherwise an embedded PostgreSQL whose data stays in data_dir."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    import pgserver  # only needed for the embedded database

    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
    if DATABASE not in server.psql("SELECT datname FROM pg_database;"):
        server.psql(f"CREATE DATABASE {DATABASE};")
    return str(server.get_uri(DATABASE)), server


def function_environment(database_url: str, bus: LocalEventBus) -> dict[str, str]:
    """What the template gives the functions, with local endpoints in place of AWS ones."""
    template = load_template()
    parameters = template.get("Parameters", {})
    env: dict[str, str] = {}
    for key, value in template["Globals"]["Function"]["Environment"]["Variables"].items():
        if isinstance(value, str):
            env[key] = value
        elif isinstance(value, dict) and "Ref" in value and "Default" in parameters.get(value["Ref"], {}):
            env[key] = str(parameters[value["Ref"]]["Default"])
    for key in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_IAM_AUTH", "DATABASE_URL_SECRET"):
        env.pop(key, None)  # DATABASE_URL replaces the AWS connection settings
    env.update(
        {
            "DATABASE_URL": database_url,
            "EVENT_BUS_NAME": bus.bus_name,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": bus.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_METRICS_NAMESPACE": "JobPrepLocal",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        }
    )
    return env


class DevRuntime:
    """Everything `make dev` starts, in order; stop() tears it down."""

    def __init__(self, config: DevConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.keys = DevKeys(config.data_dir)
        database_url, self._pg = start_database(config.data_dir)
        self.bus = LocalEventBus(BUS_NAME, config.webhook_url, config.webhook_api_key)
        self.bus.start()
        # Before any function module is imported: jobprep.db.engine builds its engine from the environment.
        os.environ.update(function_environment(database_url, self.bus))
        from jobprep.db import engine as db
        from jobprep.migrations import upgrade

        upgrade(db.engine)
        self.specs = functions()
        self.api = LocalApi(self.specs)
        # One request at a time, like a single warm container per function sharing one pooled connection.
        self.lock = threading.Lock()
        self.scheduler = LocalScheduler(self.specs, self.fire_schedule, config.schedule_scale)
        self.scheduler.start()
        self.openapi = build_openapi(self.specs, f"http://{config.host}:{config.port}")

    def fire_schedule(self, logical_id: str) -> Any:
        with self.lock:
            return self.api.fire_schedule(logical_id)

    def stop(self) -> None:
        self.scheduler.stop()
        self.bus.stop()
        if self._pg is not None:
            self._pg.cleanup()


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>job-prep API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script></body></html>"""


def swagger_static_dir() -> Path:
    import swagger_ui  # ships Swagger UI 5 (OpenAPI 3.1) as static files: no CDN needed

    return Path(swagger_ui.__file__).parent / "static"


def create_app(runtime: DevRuntime) -> Starlette:
    def unauthorized() -> JSONResponse:
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    async def gateway(request: Request) -> Response:
        path = request.url.path
        match = runtime.api.match(request.method, path)
        if match is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        # Routes with `Auth: {Authorizer: NONE}` in the template skip the JWT check, as in AWS.
        claims = None
        if match.route.jwt:
            token = bearer_token(request.headers.get("authorization"))
            if token is None:
                return unauthorized()
            try:
                claims = claims_as_api_gateway(runtime.keys.verify(token))
            except jwt.InvalidTokenError:
                return unauthorized()
        body = await request.body()

        def invoke() -> Any:
            with runtime.lock:
                return runtime.api.invoke(
                    match,
                    path,
                    headers=dict(request.headers),
                    query=request.url.query,
                    body=body or None,
                    claims=claims,
                )

        started = time.perf_counter()
        result = await run_in_threadpool(invoke)
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"[api] {request.method} {path} -> {result.status} ({elapsed_ms:.0f} ms)", flush=True)
        return Response(result.body, status_code=result.status, headers=result.headers)

    async def openapi_json(_request: Request) -> JSONResponse:
        return JSONResponse(runtime.openapi)

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    async def recent_events(_request: Request) -> JSONResponse:
        return JSONResponse(runtime.bus.snapshot())

    async def fire(request: Request) -> JSONResponse:
        logical_id = request.path_params["logical_id"]
        if logical_id not in runtime.specs:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse(await run_in_threadpool(runtime.fire_schedule, logical_id), status_code=200)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/openapi.json", openapi_json),
            Route("/docs", docs),
            Mount("/docs/static", StaticFiles(directory=swagger_static_dir()), name="swagger"),
            Route("/_local/events", recent_events),
            Route("/_local/health", health),
            Route("/_local/schedules/{logical_id}", fire, methods=["POST"]),
            Route("/{path:path}", gateway, methods=methods),
        ]
    )


def serve(config: DevConfig) -> None:
    import uvicorn

    runtime = DevRuntime(config)
    base = f"http://{config.host}:{config.port}"
    webhook = (
        f"webhook: {config.webhook_url} (as the revalidate API destination; key from DEV_WEBHOOK_API_KEY)\n"
        if config.webhook_url
        else ""
    )
    print(
        f"\njob-prep API on {base}  (docs: {base}/docs, events: {base}/_local/events)\n"
        f"EventBridge (moto) on {runtime.bus.endpoint}; data in {config.data_dir}\n"
        f"{webhook}token: make token USER_ID=alice\n",
        flush=True,
    )
    try:
        uvicorn.run(create_app(runtime), host=config.host, port=config.port, log_level="warning")
    finally:
        runtime.stop()
