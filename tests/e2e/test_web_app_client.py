"""examples/nextjs-api-client: the web app's server actions on a client generated from openapi.json,
driven by `node --test` against the dev server with dev JWTs, as the web app would call the API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import httpx
import pytest

from jobprep_local.clerk import DEV_WEBHOOK_SECRET, PATH, signed, user_profile
from jobprep_local.template import PROJECT_ROOT
from tests.e2e.conftest import DevServer

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_ROOT / "examples" / "nextjs-api-client"


@pytest.fixture(scope="module")
def built() -> None:
    # npm ci when a lock file changed, the generated types checked against openapi.json, tsc to build/.
    subprocess.run(["make", "-s", "examples-build"], cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)


def test_the_web_apps_actions_against_the_dev_server(built: None, dev_server: DevServer) -> None:
    run = uuid.uuid4().hex[:8]  # users of this run only: the session's dev server is shared
    names = ("owner", "other", "rateLimited", "pager", "synced")
    tokens = {name: dev_server.token(f"web-{name}-{run}") for name in names} | {
        "freePlan": dev_server.token(f"web-freePlan-{run}", features="u:1_interview"),
        "fiveQuestions": dev_server.token(f"web-fiveQuestions-{run}", features="u:5_questions"),
    }
    # Clerk's user.created for "synced", signed with the dev secret `make dev` verifies with
    synced = f"web-synced-{run}"
    body, headers = signed(user_profile("user.created", synced, first_name="Sync", last_name="Ed"), DEV_WEBHOOK_SECRET)
    assert httpx.post(f"{dev_server.base_url}{PATH}", content=body, headers=headers, timeout=60).status_code == 204
    profiles = {"synced": {"id": synced, "name": "Sync Ed", "email": f"{synced}@example.com"}}
    env = {
        **os.environ,
        "JOBPREP_API_URL": dev_server.base_url,
        "JOBPREP_TOKENS": json.dumps(tokens),
        "JOBPREP_PROFILES": json.dumps(profiles),
    }

    result = subprocess.run(
        ["node", "--test", "--test-reporter=tap", "build/e2e/"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20_000:]
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    assert passed is not None, output[-5_000:]
    for other in ("fail", "cancelled", "skipped", "todo"):
        assert re.search(rf"^# {other} 0$", output, re.MULTILINE), output[-5_000:]
    assert int(passed[1]) >= 18, "fewer node tests ran than e2e/actions.test.ts holds"
    print(f"node --test e2e/: {passed[1]} passed")
