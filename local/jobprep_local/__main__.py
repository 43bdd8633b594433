"""python -m jobprep_local [serve|token|webhook|openapi|openapi-breaking|psql]"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from jobprep_local.auth import DEFAULT_FEATURES, DEFAULT_TTL_SECONDS, DevKeys
from jobprep_local.containers import DEFAULT_MAX_PER_FUNCTION
from jobprep_local.devserver import DEFAULT_DATA_DIR, DEFAULT_PORT, DevConfig
from jobprep_local.eventbus import DEFAULT_EVENTBRIDGE
from jobprep_local.webhook import DEFAULT_DEV_API_KEY


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobprep_local", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("JOBPREP_LOCAL_DIR", DEFAULT_DATA_DIR)))
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the API locally (default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    serve.add_argument(
        "--webhook",
        default=os.environ.get("DEV_WEBHOOK_URL"),
        help="send each event here as the revalidate API destination would (docs/revalidation.md)",
    )
    serve.add_argument(
        "--webhook-api-key",
        default=os.environ.get("DEV_WEBHOOK_API_KEY", DEFAULT_DEV_API_KEY),
        help=f"value of the webhook's API-key header (default: $DEV_WEBHOOK_API_KEY or {DEFAULT_DEV_API_KEY})",
    )
    serve.add_argument("--schedule-scale", type=float, default=1.0, help="<1 fires schedules sooner")
    serve.add_argument(
        "--concurrency", type=int, default=DEFAULT_MAX_PER_FUNCTION, help="containers per function (Lambda concurrency)"
    )
    serve.add_argument("--emf", action="store_true", help="print the functions' raw EMF metrics lines")
    serve.add_argument(
        "--database-mode",
        choices=("aurora", "external"),
        default=os.environ.get("DATABASE_MODE") or None,
        help="judge the functions' AWS calls as this DatabaseMode's template would (IAM, VPC endpoints)",
    )
    serve.add_argument(
        "--eventbridge",
        default=os.environ.get("DEV_EVENTBRIDGE", DEFAULT_EVENTBRIDGE),
        help="where the local EventBridge (moto) runs: process (its own, the default), thread (inside the"
        " gateway) or the URL of one you run, e.g. http://127.0.0.1:5000 (default: $DEV_EVENTBRIDGE or process)",
    )

    token = commands.add_parser("token", help="print a signed dev JWT for a user id")
    token.add_argument("user_id")
    token.add_argument("--features", default=DEFAULT_FEATURES, help='plan features claim, e.g. "u:1_interview"')
    token.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS)

    webhook = commands.add_parser(
        "webhook", help="send a signed Clerk webhook (user.deleted by default) to the dev server"
    )
    webhook.add_argument("user_id")
    webhook.add_argument("--type", default="user.deleted", choices=("user.created", "user.updated", "user.deleted"))
    webhook.add_argument("--first-name", help="user.created/updated: first_name (default: the user id, capitalized)")
    webhook.add_argument("--last-name", default="Example", help="user.created/updated: last_name")
    webhook.add_argument("--email", help="user.created/updated: the primary email (default: <user id>@example.com)")
    # the port `make dev` listens on (PORT, as the Makefile passes it)
    webhook.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', DEFAULT_PORT)}")

    openapi = commands.add_parser("openapi", help="print the merged OpenAPI document")
    openapi.add_argument("--output", type=Path)

    commands.add_parser("openapi-breaking", help="api-smart-diff openapi.json against its previous committed version")

    commands.add_parser(
        "psql",
        help="open psql on the dev database (starts it if `make dev` is not running); "
        "everything after `psql` goes to psql, e.g. psql -c 'TABLE job_infos'",
        add_help=False,  # `psql --help` is psql's own
    )

    argv = sys.argv[1:] if argv is None else argv
    argv, psql_args = split_psql_args(argv)
    args = parser.parse_args(argv)
    if args.command == "token":
        print(DevKeys(args.data_dir).issue(args.user_id, args.features, args.ttl))
    elif args.command == "webhook":
        import httpx

        from jobprep_local.clerk import DEV_WEBHOOK_SECRET, PATH, event, signed

        profile = {"first_name": args.first_name, "last_name": args.last_name, "email": args.email}
        payload = event(args.type, args.user_id, **({} if args.type == "user.deleted" else profile))
        body, headers = signed(payload, os.environ.get("CLERK_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET))
        try:  # a cold container on a busy machine may take seconds to answer
            response = httpx.post(args.url.rstrip("/") + PATH, content=body, headers=headers, timeout=60)
        except httpx.TransportError as exc:
            reason = f"error: cannot reach the dev server at {args.url} ({exc}); is `make dev` running?"
            raise SystemExit(reason) from None
        print(f"POST {PATH} {args.type} {args.user_id} (svix-id {headers['svix-id']}) -> {response.status_code}")
        if response.content:
            print(response.text)
        raise SystemExit(0 if response.is_success else 1)
    elif args.command == "openapi":
        # Importing the functions needs their settings; no server is contacted to build the document.
        os.environ.setdefault("DATABASE_URL", "postgresql://openapi@localhost/unused")
        os.environ.setdefault("EVENT_BUS_NAME", "unused")
        from jobprep_local.openapi import build_openapi, render
        from jobprep_local.template import functions

        text = render(build_openapi(functions()))
        if args.output:
            args.output.write_text(text)
        else:
            print(text, end="")
    elif args.command == "openapi-breaking":
        from jobprep_local.breaking import main as check_breaking

        check_breaking()
    elif args.command == "psql":
        sys.exit(run_psql(args.data_dir, psql_args))
    else:
        from jobprep_local.clerk import DEV_WEBHOOK_SECRET
        from jobprep_local.devserver import serve as run

        # The functions verify the identity provider's webhooks with it (docs/account-deletion.md).
        os.environ.setdefault("CLERK_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)

        run(
            DevConfig(
                host=getattr(args, "host", "127.0.0.1"),
                port=getattr(args, "port", int(os.environ.get("PORT", DEFAULT_PORT))),
                data_dir=args.data_dir,
                webhook_url=getattr(args, "webhook", None) or os.environ.get("DEV_WEBHOOK_URL"),
                webhook_api_key=getattr(args, "webhook_api_key", None)
                or os.environ.get("DEV_WEBHOOK_API_KEY", DEFAULT_DEV_API_KEY),
                schedule_scale=getattr(args, "schedule_scale", 1.0),
                concurrency=getattr(args, "concurrency", DEFAULT_MAX_PER_FUNCTION),
                emf=getattr(args, "emf", False),
                eventbridge=getattr(args, "eventbridge", None)
                or os.environ.get("DEV_EVENTBRIDGE", DEFAULT_EVENTBRIDGE),
                database_mode=getattr(args, "database_mode", None),
            )
        )


def split_psql_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the `psql` command is psql's, options included: argparse would take
    `-c` for one of ours (and refuse it)."""
    for at, word in enumerate(argv):
        if word == "psql" and (at == 0 or argv[at - 1] != "--data-dir"):
            return argv[: at + 1], argv[at + 1 :]
    return argv, []


def run_psql(data_dir: Path, psql_args: list[str]) -> int:
    """psql on DATABASE_URL when set, else on the embedded database in data_dir. pgserver keeps one
    handle per process: a server `make dev` started keeps running; one started here stops after."""
    given = os.environ.get("DATABASE_URL")
    if given:
        uri = given.replace("postgresql+psycopg://", "postgresql://", 1)
        executable = shutil.which("psql") or "psql"
    else:
        import pgserver

        from jobprep_local.devserver import DATABASE, embedded_database

        uri = str(embedded_database(data_dir).get_uri(DATABASE))
        # pgserver's own psql (its bin directory, as its pg_config reports it) when none is installed
        executable = shutil.which("psql") or str(Path(pgserver.pg_config(["--bindir"]).strip()) / "psql")  # type: ignore[attr-defined]
    print(f"psql {uri}", file=sys.stderr)
    return subprocess.call([executable, uri, *psql_args])  # noqa: S603 - the developer's own arguments


if __name__ == "__main__":
    main()
