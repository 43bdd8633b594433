"""Local stand-in for the HTTP API JWT authorizer: an RS256 key pair kept in the data folder,
tokens signed with it, and verification with the same rules API Gateway applies (signature,
issuer, audience, expiry)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://auth.job-prep.local"
AUDIENCE = "job-prep-local"
DEFAULT_FEATURES = "u:unlimited_interviews,u:unlimited_questions"  # a dev user may do everything
DEFAULT_TTL_SECONDS = 12 * 3600


class DevKeys:
    def __init__(self, data_dir: Path) -> None:
        path = data_dir / "dev-jwt" / "private.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.touch(mode=0o600)
            path.write_bytes(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise TypeError(f"{path} is not an RSA private key")
        self._private = loaded
        self._public = loaded.public_key()

    def issue(self, user_id: str, features: str = DEFAULT_FEATURES, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "iat": now,
            "exp": now + ttl_seconds,
            "fea": features,
        }
        return jwt.encode(claims, self._private, algorithm="RS256")

    def verify(self, token: str) -> dict[str, Any]:
        """Raises jwt.InvalidTokenError for anything API Gateway would refuse."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self._public,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return claims


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def claims_as_api_gateway(claims: dict[str, Any]) -> dict[str, str]:
    """HTTP API hands claims to Lambda as strings; arrays are rendered as "[a b]"."""
    rendered: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list):
            rendered[key] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            rendered[key] = str(value)
    return rendered
