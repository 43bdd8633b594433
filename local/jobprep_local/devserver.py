"""`make dev`: the template's routes on 127.0.0.1 without Docker or an AWS account.

Requests go through the same steps as in AWS: CORS as the HttpApi's CorsConfiguration (preflights
answered before any authorizer), the JWT check (as the HTTP API authorizer, skipped for routes
declared `Auth: Authorizer: NONE`), an HTTP API v2 event, the function's real `lambda_handler` in a
container process of its own (jobprep_local.containers); the functions talk to an embedded
PostgreSQL and, through boto3, to a local EventBridge (moto, by default in a process of its own).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jobprep_local.auth import DevKeys, bearer_token, claims_as_api_gateway
from jobprep_local.containers import DEFAULT_MAX_PER_FUNCTION, ContainerCrashed, ContainerPool
from jobprep_local.eventbus import DEFAULT_EVENTBRIDGE, LocalEventBus
from jobprep_local.invoke import LocalApi
from jobprep_local.openapi import build_openapi
from jobprep_local.scheduler import LocalScheduler
from jobprep_local.template import PROJECT_ROOT, Cors, FunctionSpec, functions, http_api_cors, load_template
from jobprep_local.webhook import DEFAULT_DEV_API_KEY

DEFAULT_DATA_DIR = PROJECT_ROOT / ".local"
# Not 3000: that is where the web app (Next.js) runs, and the template's default CORS origin.
DEFAULT_PORT = 3001
BUS_NAME = "job-prep-local"
DATABASE = "jobprep"


@dataclass(frozen=True)
class DevConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    webhook_url: str | None = None
    webhook_api_key: str = DEFAULT_DEV_API_KEY
    schedule_scale: float = 1.0
    concurrency: int = DEFAULT_MAX_PER_FUNCTION  # containers per function
    emf: bool = False  # print the functions' raw EMF metrics lines (default: data_dir/metrics.emf.log)
    eventbridge: str = DEFAULT_EVENTBRIDGE  # where moto runs: process, thread, or an endpoint's URL
    # aurora / external: the functions' AWS calls are judged as that DatabaseMode's template would
    # have them (their role's IAM, aurora's VPC endpoints; jobprep_local.aws_model); None: not judged
    database_mode: str | None = None


def embedded_database(data_dir: Path) -> Any:
    """The embedded PostgreSQL kept in data_dir (started if needed; stopped with its last user)."""
    import pgserver  # only needed for the embedded database

    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
    if DATABASE not in server.psql("SELECT datname FROM pg_database;"):
        server.psql(f"CREATE DATABASE {DATABASE};")
    return server


def function_environment(database_url: str, bus: LocalEventBus, *, emf: bool = False) -> dict[str, str]:
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
    if not emf:  # Powertools warns once per container when a request adds no metric (any GET)
        env["PYTHONWARNINGS"] = "ignore:No application metrics to publish:UserWarning"
    return env


class DevRuntime:
    """Everything `make dev` starts; stop() tears down whatever start() got to, in reverse."""

    def __init__(self, config: DevConfig) -> None:
        self.config = config
        self.keys: DevKeys
        self.api: LocalApi
        self.specs: dict[str, FunctionSpec] = {}
        self.openapi: dict[str, Any] = {}
        self.database_url = ""
        self._pg: Any = None
        self.bus: LocalEventBus | None = None
        self.pool: ContainerPool | None = None
        self.scheduler: LocalScheduler | None = None
        self._stopping: list[threading.Thread] | None = None
        self.aws_log: Path | None = None  # the containers' judged AWS calls (JSON lines)

    def start(self) -> None:
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.keys = DevKeys(config.data_dir)
        self.bus = LocalEventBus(BUS_NAME, config.webhook_url, config.webhook_api_key, eventbridge=config.eventbridge)
        # EventBridge starts (and gets its bus and rules) while PostgreSQL starts and migrates.
        with ThreadPoolExecutor(1, thread_name_prefix="eventbridge-start") as background:
            bus_started = background.submit(self.bus.start)
            if os.environ.get("DATABASE_URL"):
                self.database_url = os.environ["DATABASE_URL"]
            else:
                self._pg = embedded_database(config.data_dir)
                self.database_url = str(self._pg.get_uri(DATABASE))
            # Before any function module is imported (here or in a container): jobprep.db.engine
            # builds its engine from the environment, and spawned containers inherit it.
            os.environ.update(function_environment(self.database_url, self.bus, emf=config.emf))
            from jobprep.db import engine as db
            from jobprep.migrations import upgrade

            upgrade(db.engine)
            bus_started.result()
        if config.database_mode:
            self.judge_aws_calls(config.database_mode)
        self.specs = functions()
        # In AWS, EMF lines become CloudWatch metrics; here they go to a file unless --emf.
        self.pool = ContainerPool(config.concurrency, None if config.emf else config.data_dir / "metrics.emf.log")
        self.api = LocalApi(self.specs, invoker=self.pool.invoke)
        self.scheduler = LocalScheduler(self.specs, self.fire_schedule, config.schedule_scale)
        self.scheduler.start()
        self.openapi = build_openapi(self.specs, f"http://{config.host}:{config.port}")
        self.pool.ready()  # the first request to a function pays its own INIT only

    def judge_aws_calls(self, mode: str) -> None:
        """As in AWS in one DatabaseMode: the webhook's signing secret is read from Secrets Manager
        (moto), and every container judges its AWS calls against the SAM-translated template. Before
        the containers start: they inherit this environment."""
        import boto3

        from jobprep_local import aws_model, cfn
        from jobprep_local.clerk import DEV_WEBHOOK_SECRET

        assert self.bus is not None
        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=self.bus.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto's
        )
        name, value = (
            f"{BUS_NAME}/clerk-webhook-signing-secret",
            os.environ.get("CLERK_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
        )
        try:
            arn = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        except secrets.exceptions.ResourceExistsException:  # an endpoint that outlived a restart
            arn = secrets.put_secret_value(SecretId=name, SecretString=value)["ARN"]
        model_file = self.config.data_dir / "aws-model.json"
        aws_model.save_models([cfn.stacks()[mode]], model_file)
        self.aws_log = self.config.data_dir / "aws-calls.jsonl"
        self.aws_log.write_text("")
        os.environ.update(
            {
                "CLERK_WEBHOOK_SECRET_ARN": arn,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.bus.endpoint,
                aws_model.MODEL_ENV: str(model_file),
                aws_model.LOG_ENV: str(self.aws_log),
            }
        )

    def fire_schedule(self, logical_id: str) -> Any:
        return self.api.fire_schedule(logical_id)

    def reset_rate_limits(self, user_id: str) -> int:
        """Forget a user's rate-limit buckets (as if they had never created anything)."""
        from sqlalchemy import delete

        from jobprep.db import engine as db
        from jobprep.rate_limit import rate_limit_buckets

        with db.connect() as conn:
            return conn.execute(delete(rate_limit_buckets).where(rate_limit_buckets.c.user_id == user_id)).rowcount

    def begin_stop(self) -> None:
        """Start stopping EventBridge and PostgreSQL, in the background; called on the signal, before
        the HTTP server drains. PostgreSQL's fast shutdown ends every session, so a request waiting
        on the database answers at once (503) instead of holding up the stop."""
        if self._stopping is not None:
            return
        parts = [self._stop_database, *([self.bus.stop] if self.bus is not None else [])]
        self._stopping = [threading.Thread(target=part, name=f"stop-{part.__qualname__}") for part in parts]
        for thread in self._stopping:
            thread.start()

    def _stop_database(self) -> None:
        if self._pg is not None:
            from jobprep.db import engine as db

            db.engine.dispose()
            self._pg.cleanup()
            self._pg = None

    def stop(self) -> None:
        """Within 3 s (tests/e2e/test_newcomer.py): the containers, EventBridge and PostgreSQL stop
        side by side (each takes up to a second or more on a busy machine), and nothing waits for a
        run in progress."""
        if self.scheduler is not None:
            self.scheduler.stop(wait=False)  # a relay run in progress ends with its container
        containers = threading.Thread(target=self.pool.close, name="stop-containers") if self.pool else None
        if containers is not None:
            containers.start()
        self.begin_stop()
        for thread in [*(self._stopping or []), *([containers] if containers else [])]:
            thread.join()
        if self.scheduler is not None:
            self.scheduler.stop()


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


def cors_middleware(cors: Cors | None) -> list[Middleware]:
    """API Gateway answers preflights itself (no route, no authorizer) and adds the CORS headers to
    every response for an allowed origin; Starlette's CORSMiddleware does the same from the same settings."""
    if cors is None:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(cors.allow_origins),
            allow_methods=list(cors.allow_methods),
            allow_headers=list(cors.allow_headers),
            expose_headers=list(cors.expose_headers),
            allow_credentials=cors.allow_credentials,
            max_age=cors.max_age,
        )
    ]


def gateway_error(status: int, message: str) -> JSONResponse:
    """API Gateway's own answers (before or around a function) have this shape."""
    return JSONResponse({"message": message}, status_code=status)


def create_app(runtime: DevRuntime) -> Starlette:
    async def gateway(request: Request) -> Response:
        path = request.url.path
        match = runtime.api.match(request.method, path)
        if match is None:
            return gateway_error(404, "Not Found")
        # Routes with `Auth: {Authorizer: NONE}` in the template skip the JWT check, as in AWS.
        claims = None
        if match.route.needs_jwt:
            token = bearer_token(request.headers.get("authorization"))
            if token is None:
                return gateway_error(401, "Unauthorized")
            try:
                claims = claims_as_api_gateway(runtime.keys.verify(token))
            except jwt.InvalidTokenError:
                return gateway_error(401, "Unauthorized")
        body = await request.body()

        def invoke() -> Any:
            return runtime.api.invoke(
                match, path, headers=dict(request.headers), query=request.url.query, body=body or None, claims=claims
            )

        started = time.perf_counter()
        try:
            result = await run_in_threadpool(invoke)
        except ContainerCrashed as exc:
            print(f"[api] {request.method} {path} -> 500: {exc}", flush=True)
            return gateway_error(500, "Internal Server Error")
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"[api] {request.method} {path} -> {result.status} ({elapsed_ms:.0f} ms)", flush=True)
        return Response(result.body, status_code=result.status, headers=result.headers)

    async def openapi_json(_request: Request) -> JSONResponse:
        return JSONResponse(runtime.openapi)

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    async def recent_events(_request: Request) -> JSONResponse:
        assert runtime.bus is not None
        return JSONResponse(runtime.bus.snapshot())

    async def fire(request: Request) -> JSONResponse:
        logical_id = request.path_params["logical_id"]
        if logical_id not in runtime.specs:
            return JSONResponse({"message": "Not Found", "schedules": sorted(scheduled(runtime.specs))}, 404)
        return JSONResponse(await run_in_threadpool(runtime.fire_schedule, logical_id), status_code=200)

    async def reset_rate_limit(request: Request) -> JSONResponse:
        user_id = request.path_params["user_id"]
        removed = await run_in_threadpool(runtime.reset_rate_limits, user_id)
        print(f"[local] rate limits reset for {user_id} ({removed} bucket(s))", flush=True)
        return JSONResponse({"userId": user_id, "bucketsRemoved": removed})

    async def health(_request: Request) -> JSONResponse:
        assert runtime.pool is not None
        assert runtime.bus is not None
        eventbridge = {"endpoint": runtime.bus.endpoint, "pid": runtime.bus.pid}
        return JSONResponse({"status": "ok", "containers": runtime.pool.sizes(), "eventbridge": eventbridge})

    async def unrouted(request: Request, _exc: Exception) -> Response:
        # Starlette's `{path:path}` cannot match a path holding a newline (%0A), nor a method it does
        # not list (TRACE, PROPFIND); API Gateway still looks for a route, so such requests get the
        # gateway's 404 {"message":"Not Found"} rather than Starlette's text 404 / 405.
        return await gateway(request)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/openapi.json", openapi_json),
            Route("/docs", docs),
            Mount("/docs/static", StaticFiles(directory=swagger_static_dir()), name="swagger"),
            Route("/_local/events", recent_events),
            Route("/_local/health", health),
            Route("/_local/schedules/{logical_id}", fire, methods=["POST"]),
            Route("/_local/rate-limits/{user_id}", reset_rate_limit, methods=["DELETE"]),
            Route("/{path:path}", gateway, methods=methods),
        ],
        middleware=cors_middleware(http_api_cors()),
        exception_handlers={404: unrouted, 405: unrouted},
    )


def eventbridge_where(bus: LocalEventBus) -> str:
    return f", process {bus.pid}" if bus.pid is not None else ""


def scheduled(specs: dict[str, FunctionSpec]) -> list[str]:
    return [logical_id for logical_id, spec in specs.items() if spec.schedules]


class PortInUse(SystemExit):
    pass


def listen(host: str, port: int) -> socket.socket:
    """Bind the API's port before starting anything else, so a clash is reported at once."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine; a listener is not
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"error: port {port} on {host} is already in use (is another `make dev` running?).\n"
                f"Stop it, or choose another port: PORT={port + 1} make dev"
            ) from exc
        raise
    sock.set_inheritable(False)
    return sock


def serve(config: DevConfig) -> None:
    import uvicorn

    sock = listen(config.host, config.port)
    running: list[uvicorn.Server] = []
    stopped_by: list[int] = []

    def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
        # SIGTERM (a process manager) and SIGHUP (a closed terminal) stop the gateway like Ctrl-C,
        # so the embedded PostgreSQL is stopped too. uvicorn handles SIGTERM while serving and
        # re-raises it once done: it then lands here, and the `finally` below still runs.
        stopped_by.append(signum)
        if running:
            runtime.begin_stop()
            running[0].should_exit = True
        else:
            raise SystemExit(128 + signum)  # still starting: unwind through `finally`

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    runtime = DevRuntime(config)

    class GatewayServer(uvicorn.Server):
        """uvicorn handles SIGINT/SIGTERM while it serves and drains connections before returning;
        the runtime starts stopping the moment the signal comes."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            runtime.begin_stop()
            super().handle_exit(sig, frame)

    try:
        runtime.start()
        # A request still running a second after the signal is cut short (its container is stopped).
        uvicorn_config = uvicorn.Config(create_app(runtime), log_level="warning", timeout_graceful_shutdown=1)
        server = GatewayServer(uvicorn_config)
        running.append(server)
        base = f"http://{config.host}:{config.port}"
        assert runtime.bus is not None
        print(
            f"\njob-prep API on {base}  (docs: {base}/docs, events: {base}/_local/events)\n"
            f"EventBridge (moto{eventbridge_where(runtime.bus)}) on {runtime.bus.endpoint}; data in {config.data_dir}\n"
            f"database: make psql  ({runtime.database_url})\n"
            + (
                f"webhook: {config.webhook_url} (as the revalidate API destination; key from DEV_WEBHOOK_API_KEY)\n"
                if config.webhook_url
                else ""
            )
            + "token: make token USER_ID=alice\n",
            flush=True,
        )
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C: uvicorn re-raises SIGINT once it has stopped serving
        stopped_by.append(signal.SIGINT)
    finally:
        sock.close()
        runtime.stop()
        sys.stdout.flush()
        sys.stderr.flush()
    # Everything started is stopped: skip the interpreter's teardown of a few thousand modules
    # (seconds on a busy machine, between SIGTERM and the exit a process manager waits for).
    os._exit(128 + stopped_by[0] if stopped_by else 0)
