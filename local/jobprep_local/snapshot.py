"""Imported once, by the forkserver every function container is forked from (containers.py): the
INIT of every function in the template (its module scope: the layer, the engine, the routes), done
once, as Lambda SnapStart does before it takes a snapshot. Each container is a fork of this process
that runs the layer's after-restore hook (jobprep.snapstart), as a restored SnapStart environment
does, then opens its own database connection on its first request.

No connection or client survives here: jobprep creates its engine at import but connects on first
use, and makes its AWS clients on first use. Making one costs a first request seconds on a busy
machine (importing boto3, reading botocore's endpoint and service models), so one of each is made
and dropped here ("priming", as SnapStart's guide calls it): a container's clients then come from
boto3's default session, models already loaded."""

from __future__ import annotations

import sys

from jobprep_local import aws_model
from jobprep_local.template import functions, load_module


def init_every_function() -> list[str]:
    """Import every function's handler module; returns those whose INIT failed (their containers
    import them again and report the error on the first request, as Lambda reports an INIT error)."""
    failed = []
    for spec in functions().values():
        try:
            load_module(spec)
        except Exception:
            failed.append(spec.logical_id)
    snapstart = sys.modules.get("jobprep.snapstart")
    if snapstart is not None:
        snapstart.before_snapshot()
    return failed


def prime_aws_clients() -> None:
    """The services the layer calls: EventBridge (every change's event) and SQS (the relay's
    wake-up). The clients are not kept, and make no request here."""
    import boto3

    for service in ("events", "sqs"):
        boto3.client(service)


# Before any botocore session exists: the sessions made here (boto3's default) carry the handler
# that judges AWS calls when the gateway runs with --database-mode (aws_model).
aws_model.install_from_environment()
failed = init_every_function()
prime_aws_clients()
