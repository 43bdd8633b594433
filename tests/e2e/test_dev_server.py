"""`make dev` end to end over HTTP: two users, every route, events observed, local JWT auth."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from jobprep_local.template import functions
from tests.e2e.conftest import HTTP_TIMEOUT, DevServer, WebhookReceiver

pytestmark = pytest.mark.e2e


def wait_for(condition: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def events_about(server: DevServer, resource_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{server.base_url}/_local/events", timeout=HTTP_TIMEOUT).json()
    return [e for e in events if e["detail"]["id"] == resource_id]


def test_two_users_full_flow(dev_server: DevServer, webhook: WebhookReceiver) -> None:
    # Users of their own: the session's dev server is shared, and other files' tests act as alice too.
    alice_id, bob_id = f"alice-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    alice, bob = dev_server.client(alice_id), dev_server.client(bob_id)
    job = alice.post("/job-infos", json={"name": "Acme", "experienceLevel": "senior", "description": "Python"})
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    assert job.headers["location"] == f"/job-infos/{job_id}"
    bobs = bob.post("/job-infos", json={"name": "Bob's", "experienceLevel": "junior", "description": "Go"})
    assert bobs.status_code == 201

    assert [j["name"] for j in alice.get("/job-infos").json()["items"]] == ["Acme"]
    assert [j["name"] for j in bob.get("/job-infos").json()["items"]] == ["Bob's"]
    assert bob.get(f"/job-infos/{job_id}").status_code == 404
    assert bob.patch(f"/job-infos/{job_id}", json={"name": "mine now"}).status_code == 404
    assert bob.delete(f"/job-infos/{job_id}").status_code == 404

    updated = alice.patch(f"/job-infos/{job_id}", json={"title": "Staff"}, headers={"if-match": job.headers["etag"]})
    assert updated.status_code == 200
    assert updated.json()["title"] == "Staff"

    interview = alice.post(f"/job-infos/{job_id}/interviews", json={})
    assert interview.status_code == 201
    interview_id = interview.json()["id"]
    assert bob.post(f"/job-infos/{job_id}/interviews", json={}).status_code == 404
    assert bob.get(f"/interviews/{interview_id}").status_code == 404
    patched = alice.patch(f"/interviews/{interview_id}", json={"duration": "00:10:00", "humeChatId": "h1"})
    assert patched.status_code == 200
    assert [i["id"] for i in alice.get(f"/job-infos/{job_id}/interviews").json()["items"]] == [interview_id]

    assert alice.delete(f"/job-infos/{job_id}").status_code == 204
    assert alice.get(f"/interviews/{interview_id}").status_code == 404

    job_events = wait_for(lambda: len(events_about(dev_server, job_id)) == 3 and events_about(dev_server, job_id))
    assert [e["detail-type"] for e in job_events] == ["JobInfoCreated", "JobInfoUpdated", "JobInfoDeleted"]
    assert job_events[0]["detail"]["tags"] == ["global:jobInfos", f"user:{alice_id}:jobInfos", f"id:{job_id}:jobInfos"]
    assert job_events[2]["detail"]["tags"] == [
        "global:jobInfos",
        f"user:{alice_id}:jobInfos",
        f"id:{job_id}:jobInfos",
        f"jobInfo:{job_id}:interviews",
        f"jobInfo:{job_id}:questions",
        "global:interviews",
        f"id:{interview_id}:interviews",
    ]
    interview_events = events_about(dev_server, interview_id)
    assert [e["detail-type"] for e in interview_events] == ["InterviewCreated", "InterviewUpdated"]
    assert interview_events[0]["detail"]["tags"] == [
        "global:interviews",
        f"jobInfo:{job_id}:interviews",
        f"id:{interview_id}:interviews",
    ]
    # the same events reached the webhook (tests/e2e/test_revalidate.py checks the requests in full)
    wait_for(lambda: {e["detail"]["eventId"] for e in job_events} <= {b["eventId"] for b in webhook.bodies})
    assert "[events] JobInfoDeleted" in dev_server.log()


def test_signed_webhook_deletes_a_users_data_without_a_jwt(dev_server: DevServer) -> None:
    """What `make webhook USER_ID=carol` does, against the documented dev secret."""
    carol, dave = dev_server.client("carol"), dev_server.client("dave")
    job = carol.post("/job-infos", json={"name": "Carol's", "experienceLevel": "junior", "description": "d"}).json()
    assert carol.post(f"/job-infos/{job['id']}/interviews", json={}).status_code == 201
    assert dave.post("/job-infos", json={"name": "Dave's", "experienceLevel": "senior", "description": "d"}).is_success

    unsigned = httpx.post(  # the webhook's first request: a cold container, on a busy machine too
        f"{dev_server.base_url}/webhooks/clerk", json={"type": "user.deleted", "data": {"id": "dave"}}, timeout=60
    )
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "INVALID_SIGNATURE"  # the function answered: no JWT check in front of it

    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    sent = subprocess.run(
        [sys.executable, "-m", "jobprep_local", "webhook", "carol", "--url", dev_server.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "-> 204" in sent.stdout

    assert carol.get("/job-infos").json()["items"] == []
    assert [j["name"] for j in dave.get("/job-infos").json()["items"]] == ["Dave's"]
    [event] = wait_for(lambda: events_about(dev_server, "carol"))
    assert event["detail-type"] == "UserDataDeleted"
    assert f"id:{job['id']}:jobInfos" in event["detail"]["tags"]


def test_the_functions_aws_calls_are_judged_as_in_aurora(dev_server: DevServer) -> None:
    """The session's dev server runs as DatabaseMode=aurora (--database-mode): the webhook reads its
    signing secret from Secrets Manager through the template's VPC endpoint, a create publishes
    through the events endpoint, each container connects to the database with rds-db:connect, all
    as the function's own role, and every call is in the log the autouse check reads."""
    frank = dev_server.client("frank")
    assert frank.post("/job-infos", json={"name": "F", "experienceLevel": "mid-level", "description": "d"}).is_success
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    sent = subprocess.run(
        [sys.executable, "-m", "jobprep_local", "webhook", "frank", "--url", dev_server.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert "-> 204" in sent.stdout, sent.stdout + sent.stderr
    made = {(c["function"], c["action"], c["verdict"], c["stack"]) for c in dev_server.aws_calls()}
    assert {
        ("ClerkWebhookFunction", "secretsmanager:GetSecretValue", "allowed", "aurora"),
        ("CreateJobInfoFunction", "events:PutEvents", "allowed", "aurora"),
        ("CreateJobInfoFunction", "rds-db:connect", "allowed", "aurora"),
    } <= made


def test_make_webhook_sends_clerks_profile_events_then_the_deletion(dev_server: DevServer) -> None:
    """The documented `make webhook USER_ID=erin TYPE=user.created` (and user.updated with EMAIL=),
    against the dev port: GET /me shows the profile Clerk's events give, then none once deleted."""
    erin = dev_server.client("erin")
    assert erin.get("/me").json()["profile"] is None
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}

    def make_webhook(*variables: str) -> str:
        command = ["make", "-s", "webhook", "USER_ID=erin", f"PORT={dev_server.port}", *variables]
        sent = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        return sent.stdout

    assert "user.created erin" in make_webhook("TYPE=user.created")
    assert erin.get("/me").json()["profile"]["email"] == "erin@example.com"
    time.sleep(0.01)  # Clerk's times are milliseconds: the update is newer
    assert "-> 204" in make_webhook("TYPE=user.updated", "EMAIL=erin.new@example.com")
    profile = erin.get("/me").json()["profile"]
    assert (profile["name"], profile["email"]) == ("Erin Example", "erin.new@example.com")
    upserts = wait_for(lambda: len(events_about(dev_server, "erin")) == 2 and events_about(dev_server, "erin"))
    assert [(e["detail-type"], e["detail"]["tags"]) for e in upserts] == [
        ("UserUpserted", ["global:users", "id:erin:users"])
    ] * 2

    assert "user.deleted erin" in make_webhook()
    assert erin.get("/me").json()["profile"] is None
    deleted = wait_for(lambda: [e for e in events_about(dev_server, "erin") if e["detail-type"] == "UserDataDeleted"])
    assert deleted[0]["detail"]["tags"] == ["global:users", "id:erin:users"]


def _foreign_token() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "mallory", "iss": "https://auth.job-prep.local", "aud": "job-prep-local", "exp": 4102444800}
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-jwt", "Basic YWxpY2U6c2VjcmV0", "foreign", "expired", "wrong-audience"],
)
def test_requests_without_a_valid_token_are_401(dev_server: DevServer, authorization: str | None) -> None:
    tokens = {
        "foreign": f"Bearer {_foreign_token()}",
        "expired": f"Bearer {dev_server.token('alice', ttl_seconds=-60)}",
        "wrong-audience": "Bearer "
        + jwt.encode(
            {**jwt.decode(dev_server.token("alice"), options={"verify_signature": False}), "aud": "someone-else"},
            "x" * 32,
            algorithm="HS256",
        ),
    }
    headers = {} if authorization is None else {"authorization": tokens.get(authorization, authorization)}
    before = httpx.get(f"{dev_server.base_url}/_local/events", timeout=HTTP_TIMEOUT).json()
    response = httpx.post(
        f"{dev_server.base_url}/job-infos",
        json={"name": "x", "experienceLevel": "junior", "description": "d"},
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert httpx.get(f"{dev_server.base_url}/_local/events", timeout=HTTP_TIMEOUT).json() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/job-infos/"),  # an empty id
        ("GET", "/job-infos/a/b"),  # an id holding a slash
        ("PATCH", "/interviews/a/b"),
        ("POST", "/job-infos/a/b/interviews"),
        ("TRACE", "/job-infos"),  # a method no route has, even one Starlette does not list
        ("PROPFIND", "/interviews/x"),
    ],
)
@pytest.mark.parametrize("user", ["alice", None])
def test_a_request_no_route_matches_gets_api_gateways_own_404(
    dev_server: DevServer, method: str, path: str, user: str | None
) -> None:
    # API Gateway looks for a route before it runs the authorizer: no token still gets the 404.
    response = dev_server.client(user).request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Not Found"}  # declared: GatewayErrorBody, beside ErrorBody


def test_scheduled_functions_fire(dev_server: DevServer) -> None:
    # The relay's schedule is an hourly safety net and keep-warm is off by default (an idle
    # stack lets its database sleep), so fire both the way EventBridge would.
    relay = httpx.post(f"{dev_server.base_url}/_local/schedules/RelayOutboxFunction", timeout=HTTP_TIMEOUT).json()
    assert {"sent", "failed", "pending"} <= set(relay)
    warm = httpx.post(f"{dev_server.base_url}/_local/schedules/GetJobInfoFunction", timeout=HTTP_TIMEOUT).json()
    assert warm == {"warm": True}


def test_openapi_document_covers_every_route(dev_server: DevServer) -> None:
    document = httpx.get(f"{dev_server.base_url}/openapi.json", timeout=HTTP_TIMEOUT).json()
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    # the gateway serves exactly template.yaml's routes (the one list), each documented
    assert operations == {(r.path, r.method.lower()) for spec in functions().values() for r in spec.routes}
    assert ("/me", "get") in operations
    # the webhook is authenticated by its Svix signature, every other operation by the JWT
    assert document["paths"]["/webhooks/clerk"]["post"]["security"] == []
    assert all(
        "security" not in op
        for path, item in document["paths"].items()
        if path != "/webhooks/clerk"
        for op in item.values()
    )
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"JobInfoCreate", "JobInfoOut", "InterviewOut", "JobInfoPage"} <= set(document["components"]["schemas"])


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it as root)")
def test_docs_page_renders_in_headless_chromium(dev_server: DevServer, tmp_path: Path) -> None:
    result = __import__("subprocess").run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{dev_server.base_url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = result.stdout
    assert 'class="swagger-ui' in dom, result.stderr[-2000:]
    # Swagger UI ran, fetched /openapi.json and rendered the operations
    assert "job-prep API" in dom
    for path in ["/job-infos/{jobInfoId}/interviews", "/interviews/{interviewId}"]:
        assert path in dom


def test_data_persists_across_restarts(tmp_path: Path) -> None:
    first = DevServer(tmp_path / "persist")
    try:
        created = first.client("carol").post(
            "/job-infos", json={"name": "kept", "experienceLevel": "mid-level", "description": "d"}
        )
        assert created.status_code == 201
    finally:
        first.stop()
    second = DevServer(tmp_path / "persist")
    try:
        listed = second.client("carol").get("/job-infos").json()["items"]
        assert [j["id"] for j in listed] == [created.json()["id"]]
    finally:
        second.stop()
