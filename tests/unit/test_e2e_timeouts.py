"""No HTTP client in tests/e2e waits with httpx's default 5 s: a request may be the first to its
function, a cold container on a busy machine (issue 19; it failed a CI run once)."""

from __future__ import annotations

import ast
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"
# httpx's request functions and clients: each takes `timeout`, 5 s when not given.
HTTPX_CALLS = {"request", "stream", "get", "options", "head", "post", "put", "patch", "delete", "Client", "AsyncClient"}


def default_timeouts(source: str) -> list[int]:
    """Lines of `httpx.<call>(...)` calls that give no `timeout`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "httpx"
            and node.func.attr in HTTPX_CALLS
            and not any(keyword.arg in ("timeout", None) for keyword in node.keywords)  # None: **kwargs
        ):
            lines.append(node.lineno)
    return lines


def test_every_e2e_http_call_sets_its_timeout() -> None:
    found = {
        f"{path.name}:{line}": path.read_text().splitlines()[line - 1].strip()
        for path in sorted(E2E.glob("*.py"))
        for line in default_timeouts(path.read_text())
    }
    assert found == {}, "give these a timeout (tests.e2e.conftest.HTTP_TIMEOUT)"


def test_the_check_finds_a_call_on_the_default_timeout() -> None:
    planted = "import httpx\nhttpx.get('http://x', timeout=60)\nhttpx.post(\n  'http://x',\n  json={},\n)\n"
    assert default_timeouts(planted) == [3]
    assert default_timeouts("import httpx\nwith httpx.Client(base_url='http://x') as c:\n    pass\n") == [2]
    assert default_timeouts("import httpx\nhttpx.Client(**settings)\n") == []
