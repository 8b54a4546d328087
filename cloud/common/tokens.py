"""Access tokens (JWT, short-lived) and opaque secrets (refresh tokens, device codes)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

import jwt

from cloud.common.errors import Unauthorized

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, a hub or app acting for one (`device_id` set), or one of the user's
    API keys (`key_id` set). The last two hold only their scopes; the user holds every scope."""

    user_id: str
    device_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None

    @property
    def limited(self) -> bool:
        return self.device_id is not None or self.key_id is not None

    @property
    def key(self) -> str:
        if self.key_id:
            return f"apikey:{self.key_id}"
        return f"device:{self.device_id}" if self.device_id else f"user:{self.user_id}"


def issue_access(key: str, principal: Principal, ttl_s: int) -> str:
    now = int(time.time())
    claims = {"sub": principal.user_id, "iat": now, "exp": now + ttl_s, "scope": " ".join(sorted(principal.scopes))}
    if principal.device_id:
        claims["dev"] = principal.device_id
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_access(key: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError as err:
        raise Unauthorized(
            "the access token has expired", code="TOKEN_EXPIRED", hint="get a new one with your refresh token"
        ) from err
    except jwt.PyJWTError as err:
        raise Unauthorized("the access token is not valid", code="TOKEN_INVALID") from err
    return Principal(str(claims["sub"]), claims.get("dev"), frozenset(str(claims.get("scope", "")).split()))


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """Secrets are stored only as hashes: a database leak leaks no usable token."""
    return hashlib.sha256(secret.encode()).hexdigest()


USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes


def new_user_code() -> str:
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"
