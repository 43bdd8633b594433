"""PostgreSQL as AWS serves it: over TCP, TLS 1.3 only, SCRAM-SHA-256 passwords.

pgserver's embedded binaries are built without OpenSSL, so this uses the machine's own
PostgreSQL binaries (Debian/Ubuntu: /usr/lib/postgresql/<version>/bin, `apt-get install
postgresql`): a throw-away cluster in a temporary directory, on its own port, with a
self-signed certificate. pg_hba admits only `hostssl ... scram-sha-256`, so a connection
without TLS or without a SCRAM password is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import ipaddress
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from jobprep_local.eventbus import free_port

USER = "jobprep"
ABSENT = (
    "no machine PostgreSQL binaries found (/usr/lib/postgresql/*/bin, or BENCH_PG_BIN): "
    "pgserver's embedded binaries have no OpenSSL, so the network mode (TLS + SCRAM through a delay proxy) "
    "cannot run here. Install them (Debian/Ubuntu: apt-get install postgresql) to measure it."
)


def machine_pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed on the machine (BENCH_PG_BIN overrides)."""
    given = os.environ.get("BENCH_PG_BIN")
    candidates = [given] if given else glob.glob("/usr/lib/postgresql/*/bin")

    def major(path: str) -> int:
        version = Path(path).parent.name
        return int(version) if version.isdigit() else 0

    for candidate in sorted(candidates, key=major, reverse=True):
        directory = Path(candidate)
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@dataclass(frozen=True)
class TlsServer:
    host: str
    port: int
    password: str
    log: Path

    def url(self, database: str, port: int | None = None) -> str:
        """A libpq URI (psycopg takes it as is; jobprep.db adds the SQLAlchemy driver)."""
        return (
            f"postgresql://{USER}:{self.password}@{self.host}:{port or self.port}/{database}"
            "?sslmode=require&connect_timeout=10"
        )

    def describe(self, database: str) -> dict[str, str]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version'), s.version, s.cipher, current_setting('password_encryption'),"
                " current_setting('synchronous_commit') FROM pg_stat_ssl AS s WHERE s.pid = pg_backend_pid()"
            ).fetchone()
        assert row is not None
        version, tls, cipher, encryption, synchronous_commit = row
        return {
            "server": "machine PostgreSQL binaries, own cluster",
            "version": str(version),
            "transport": f"TCP, {tls} ({cipher}), {encryption} auth (pg_hba: hostssl only)",
            "synchronous_commit": str(synchronous_commit),
        }


def self_signed(directory: Path, owner: tuple[int, int] | None = None) -> tuple[Path, Path]:
    """A throwaway certificate for localhost / 127.0.0.1 that can also serve as its own trust anchor."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)  # PostgreSQL refuses a key others can read
    if owner is not None:
        for path in (cert_path, key_path):
            os.chown(path, *owner)
    return cert_path, key_path


@contextlib.contextmanager
def tls_postgres(pg_bin: Path, settings: dict[str, str] | None = None) -> Iterator[TlsServer]:
    """A fresh cluster for the duration of the block, stopped and deleted afterwards.
    `settings`: extra postgresql.conf lines (e.g. {"log_statement": "'all'"})."""
    # initdb refuses to run as root: then the cluster belongs to the packages' postgres user.
    run_as: dict[str, Any] = {}
    owner: tuple[int, int] | None = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root needs a 'postgres' system user to own the bench cluster") from exc
        owner = (account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="jobprep-bench-pg-"))
    password = secrets.token_urlsafe(18)
    port = free_port()
    data = root / "data"
    try:
        if owner is not None:
            os.chown(root, *owner)
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if owner is not None:
            os.chown(pwfile, *owner)
        cert, key = self_signed(root, owner)

        def tool(*args: str) -> None:
            done = subprocess.run(
                [str(pg_bin / args[0]), *args[1:]], capture_output=True, text=True, check=False, timeout=120, **run_as
            )
            if done.returncode != 0:
                raise RuntimeError(f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

        tool(
            "initdb",
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        (data / "pg_hba.conf").write_text(
            "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n"  # no plain-TCP line
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"""
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
ssl = on
ssl_cert_file = '{cert}'
ssl_key_file = '{key}'
ssl_min_protocol_version = 'TLSv1.3'
password_encryption = 'scram-sha-256'
max_connections = 60
"""
            )
            conf.writelines(f"{name} = {value}\n" for name, value in (settings or {}).items())
        tool("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "start")
        try:
            yield TlsServer("127.0.0.1", port, password, root / "server.log")
        finally:
            tool("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: TlsServer, name: str) -> str:
    """A fresh database `name` (dropped first); returns its direct URL (no proxy)."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)
