"""The shared layer as Lambda gets it: built by shared/Makefile (what `sam build` runs), zipped the
way SAM zips it, unzipped the way Lambda mounts it on /opt. Also the checks that its bytecode
is valid for the runtime (CPython 3.13) after that round trip."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT / "shared"
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.13
UNCHECKED_HASH = 0b01  # pyc flags: hash-based, source not checked (PEP 552)


class NoPython313(RuntimeError):
    """No CPython 3.13 on this machine: the layer cannot be built (the message says how to get one)."""


def python313() -> str:
    """The interpreter shared/Makefile compiles the layer with (one lookup, in the Makefile)."""
    done = subprocess.run(
        ["make", "-s", "-C", str(SHARED), "python313"], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise NoPython313(done.stderr.strip().splitlines()[0] if done.stderr.strip() else "no CPython 3.13 found")
    return done.stdout.strip()


def host_arch() -> str:
    """The wheel architecture whose native extensions load on this machine."""
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())


def build_layer(artifacts_dir: Path, arch: str = "aarch64") -> Path:
    """`make build-SharedLayer` as `sam build` runs it; returns the layer's python/ directory.
    arch=host_arch() gives the same layer with native extensions this machine can load."""
    shutil.rmtree(artifacts_dir, ignore_errors=True)  # a fresh directory, as sam build gives it
    artifacts_dir.mkdir(parents=True)
    done = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(SHARED),
            "build-SharedLayer",
            f"ARTIFACTS_DIR={artifacts_dir.resolve()}",
            f"ARCH={arch}",
            f"PYTHON={sys.executable}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"layer build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return artifacts_dir / "python"


def sam_zip(source_root: Path, zip_path: Path) -> Path:
    """What SAM's packaging does to a built artifact (samcli.lib.package.utils.make_zip): every
    file stored as ZipInfo(relative path), so dated 1980-01-01, with its mode, deflated."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, _, files in os.walk(source_root, followlinks=True):
            for name in files:
                full = Path(root) / name
                info = zipfile.ZipInfo(str(full.relative_to(source_root)))
                info.create_system = 3  # Unix
                info.external_attr = full.stat().st_mode << 16
                zf.writestr(info, full.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return zip_path


def lambda_unzip(zip_path: Path, destination: Path) -> Path:
    """Extract as `unzip` does: each file gets its entry's date (1980 for SAM's zips)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, destination))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(extracted, (stamp, stamp))
    return destination


def as_lambda_sees_it(layer_python: Path, workdir: Path) -> Path:
    """The built layer after SAM's zip and Lambda's unzip: returns the directory that plays /opt/python."""
    artifact = layer_python.parent
    zip_path = sam_zip(artifact, workdir / "layer.zip")
    opt = workdir / "opt"
    shutil.rmtree(opt, ignore_errors=True)
    lambda_unzip(zip_path, opt)
    zip_path.unlink()
    return opt / "python"


# Runs under CPython 3.13: for every .py, the .pyc Python 3.13 would look for, and whether it
# is a valid unchecked-hash pyc of that very source.
_CHECK = r"""
import importlib.util, json, sys
from pathlib import Path

root = Path(sys.argv[1])
sources = sorted(root.rglob("*.py"))
problems, wanted = [], set()
for source in sources:
    pyc = Path(importlib.util.cache_from_source(str(source)))
    wanted.add(pyc)
    try:
        header = pyc.read_bytes()[:16]
    except OSError:
        problems.append(f"{source.relative_to(root)}: no {pyc.name}")
        continue
    if header[:4] != importlib.util.MAGIC_NUMBER:
        problems.append(f"{pyc.relative_to(root)}: magic {header[:4]!r}")
    elif int.from_bytes(header[4:8], "little") != 0b01:
        problems.append(f"{pyc.relative_to(root)}: flags {int.from_bytes(header[4:8], 'little'):#b}")
    elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
        problems.append(f"{pyc.relative_to(root)}: hash does not match its source")
strays = [str(p.relative_to(root)) for p in root.rglob("*.pyc") if p not in wanted]
print(json.dumps({"magic": importlib.util.MAGIC_NUMBER.hex(), "sources": len(sources),
                  "problems": problems, "strays": strays}))
"""


def check_bytecode(layer_python: Path, interpreter: str) -> dict[str, object]:
    """{"magic", "sources", "problems", "strays"} for the layer's python/ directory."""
    done = subprocess.run(
        [interpreter, "-c", _CHECK, str(layer_python)], capture_output=True, text=True, check=True, timeout=300
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result
