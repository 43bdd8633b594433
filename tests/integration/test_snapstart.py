"""SnapStart restore hooks around real invocations: after a restore nothing captured at init is
reused (the pooled server connection, the random state, AWS clients, cached secrets)."""

from __future__ import annotations

import importlib
import pkgutil
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from jobprep import snapstart
from jobprep.db import engine as db
from jobprep_local.template import functions
from tests.integration.conftest import ApiClient
from tests.integration.test_connection_reuse import app_backends


def wait_until_gone(admin: Engine, pid: int, timeout: float = 10.0) -> None:
    """A backend whose client closed the socket exits on its own, a moment later."""
    deadline = time.monotonic() + timeout
    while pid in app_backends(admin):
        if time.monotonic() > deadline:
            raise AssertionError(f"backend {pid} still connected after the hook closed its socket")
        time.sleep(0.02)


def test_a_restored_function_opens_a_fresh_connection(api: ApiClient, clean_db: Engine) -> None:
    db.engine.dispose()
    job = api.create_job_info()  # init, then an invocation: the container now holds a connection
    [before] = app_backends(clean_db)

    snapstart.before_snapshot()
    pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == 0, "a pooled connection would be frozen into the snapshot"
    wait_until_gone(clean_db, before)
    snapstart.after_restore()

    assert api.get(f"/job-infos/{job['id']}").status == 200
    [after] = app_backends(clean_db)
    assert after != before
    assert api.patch(f"/job-infos/{job['id']}", {"name": "restored"}).status == 200
    assert app_backends(clean_db) == [after], "warm again: one connection, reused"


def test_after_restore_alone_drops_a_connection_captured_in_the_snapshot(api: ApiClient, clean_db: Engine) -> None:
    # as if the snapshot had been taken with a pooled connection (a before-snapshot hook skipped)
    db.engine.dispose()
    job = api.create_job_info()
    [captured] = app_backends(clean_db)

    snapstart.after_restore()

    assert api.get(f"/job-infos/{job['id']}").status == 200
    assert captured not in app_backends(clean_db)
    assert len(app_backends(clean_db)) == 1


def test_clones_of_one_snapshot_draw_different_random_numbers() -> None:
    snapshot_state = random.getstate()
    draws = []
    for _ in range(2):  # two environments restored from the same snapshot
        random.setstate(snapshot_state)
        snapstart.after_restore()
        draws.append([random.random() for _ in range(4)])
    assert draws[0] != draws[1]


def cached_aws_clients() -> list[Any]:
    """Every cached AWS client factory in the layer (a `functools.cache`d `*_client`)."""
    import jobprep

    found = {}
    for module in pkgutil.walk_packages(jobprep.__path__, "jobprep."):
        if module.name.startswith("jobprep.migrations"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if name.endswith("_client") and callable(getattr(value, "cache_clear", None)):
                found[value.__module__ + "." + name] = value
    return list(found.values())


def test_after_restore_drops_every_cached_aws_client(aws: None) -> None:
    factories = cached_aws_clients()
    assert {f.__name__ for f in factories} >= {"events_client", "sqs_client"}
    clients = [factory() for factory in factories]
    assert [factory() for factory in factories] == clients  # cached for warm invocations
    snapstart.after_restore()
    for factory, client in zip(factories, clients, strict=True):
        # already made again by the hook: the first invocation after a restore does not pay for it
        assert factory.cache_info().currsize == 1, f"{factory.__name__} left to the first invocation"
        assert factory() is not client, f"{factory.__module__}.{factory.__name__} survives a restore"


def test_after_restore_creates_only_the_clients_the_init_had(aws: None) -> None:
    factories = cached_aws_clients()
    for factory in factories:
        factory.cache_clear()
    used = factories[0]
    used()
    snapstart.after_restore()
    assert [f.cache_info().currsize for f in factories] == [1] + [0] * (len(factories) - 1)


def test_after_restore_drops_cached_secrets(aws: None) -> None:
    import boto3
    from aws_lambda_powertools.utilities.parameters import get_secret

    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="db", SecretString='{"password": "at-snapshot"}')["ARN"]
    assert get_secret(arn, transform="json", max_age=300)["password"] == "at-snapshot"
    secrets.put_secret_value(SecretId=arn, SecretString='{"password": "rotated"}')
    assert get_secret(arn, transform="json", max_age=300)["password"] == "at-snapshot"  # cached

    snapstart.after_restore()

    assert get_secret(arn, transform="json", max_age=300)["password"] == "rotated"


def test_hooks_register_with_the_lambda_runtime_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import snapshot_restore_py

    registered: dict[str, object] = {}
    monkeypatch.setattr(snapshot_restore_py, "register_before_snapshot", lambda f: registered.setdefault("before", f))
    monkeypatch.setattr(snapshot_restore_py, "register_after_restore", lambda f: registered.setdefault("after", f))
    assert snapstart.register() is True
    assert registered == {"before": snapstart.before_snapshot, "after": snapstart.after_restore}


def test_without_the_runtime_library_registration_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ModuleNotFoundError
    assert snapstart.register() is False


def _registers_hooks(logical_id: str) -> bool:
    spec = functions()[logical_id]
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('handler', {str(spec.source_file)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "hooks = sys.modules.get('jobprep.snapstart')\n"
        "print(hooks is not None and hooks.registered)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip() == "True"


def test_every_function_registers_the_hooks_at_init() -> None:
    """Lambda ignores hooks in modules the handler does not import: check each handler, alone,
    in a fresh interpreter, as the runtime would load it (the interpreters run side by side)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        registered = dict(zip(functions(), pool.map(_registers_hooks, functions()), strict=True))
    assert registered == dict.fromkeys(functions(), True)
