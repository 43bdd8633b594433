"""Breaking changes of the committed openapi.json against its previous committed version.

The previous version is the newest one in git history that differs from the file as it is now
(the working tree while you edit, the last change once committed). The comparison itself is
api-smart-diff's (tools/openapi-diff, `npm ci` by `make openapi-tools`): it classifies each change
as breaking, non-breaking or annotation for the API's clients.

A breaking change is accepted by a new major version in info.version (jobprep_local/openapi.py
VERSION): see docs/api-contract.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jobprep_local.openapi import COMMITTED_PATH
from jobprep_local.template import PROJECT_ROOT

DIFF_TOOL = PROJECT_ROOT / "tools" / "openapi-diff"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    report: str


def _git(where: Path, *args: str) -> str:
    command = ["git", "-C", str(where), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603


def previous_version(path: Path = COMMITTED_PATH) -> tuple[str, str] | None:
    """(commit, text) of the newest committed version that differs from the file now; None if none."""
    current = path.read_text()
    for commit in _git(path.parent, "log", "--format=%H", "--", path.name).split():
        try:
            text = _git(path.parent, "show", f"{commit}:./{path.name}")
        except subprocess.CalledProcessError:  # deleted in that commit
            continue
        if text != current:
            return commit, text
    return None


def major(document_text: str) -> int:
    version = str(json.loads(document_text).get("info", {}).get("version", "0"))
    return int(version.split(".", 1)[0] or 0)


def compare(before_text: str, after_text: str) -> tuple[bool, str]:
    """(has breaking changes, api-smart-diff's report)."""
    node = shutil.which("node")
    if node is None or not (DIFF_TOOL / "node_modules" / "api-smart-diff").is_dir():
        raise RuntimeError("api-smart-diff is not installed: run `make openapi-tools` (Node.js and npm needed)")
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before.json", Path(tmp) / "after.json"
        before.write_text(before_text)
        after.write_text(after_text)
        command = [node, str(DIFF_TOOL / "breaking.mjs"), str(before), str(after)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode not in (0, 1):
        raise RuntimeError(f"api-smart-diff failed: {result.stderr}")
    return result.returncode == 1, result.stdout.strip()


def check(path: Path = COMMITTED_PATH) -> Verdict:
    previous = previous_version(path)
    if previous is None:
        return Verdict(True, f"{path.name}: no previous committed version to compare with")
    commit, before_text = previous
    after_text = path.read_text()
    breaking, report = compare(before_text, after_text)
    header = f"{path.name} against its version in {commit[:12]}:\n{report}"
    if not breaking:
        return Verdict(True, header)
    if major(after_text) > major(before_text):
        accepted = f"accepted: info.version's major went {major(before_text)} -> {major(after_text)}"
        return Verdict(True, f"{header}\n{accepted}")
    return Verdict(
        False,
        f"{header}\nBreaking changes for the API's clients. Avoid them, or accept them deliberately with a new "
        "major info.version (local/jobprep_local/openapi.py VERSION), then `make openapi` (docs/api-contract.md).",
    )


def main() -> None:
    verdict = check()
    print(verdict.report)
    sys.exit(0 if verdict.ok else 1)
