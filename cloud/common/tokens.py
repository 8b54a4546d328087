"""Access tokens (JWT, short-lived) and opaque secrets (refresh tokens, device codes)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
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
    return _verify(key, token)[0]


def _verify(key: str, token: str) -> tuple[Principal, float]:
    """The token's principal and expiry (epoch seconds), or 401 TOKEN_EXPIRED / TOKEN_INVALID."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError as err:
        raise _expired() from err
    except jwt.PyJWTError as err:
        raise Unauthorized("the access token is not valid", code="TOKEN_INVALID") from err
    principal = Principal(str(claims["sub"]), claims.get("dev"), frozenset(str(claims.get("scope", "")).split()))
    return principal, float(claims["exp"])


def _expired() -> Unauthorized:
    return Unauthorized(
        "the access token has expired", code="TOKEN_EXPIRED", hint="get a new one with your refresh token"
    )


class AccessTokens:
    """Reads access tokens, keeping the ones whose signature it has checked until they expire.

    Checking an HS256 signature (PyJWT parses, decodes and hashes) costs more than the rest of a
    cheap request; a client sends the same token many times. A kept token is exactly as valid as it
    was when checked, and its expiry is checked at every use, as PyJWT does (valid while now < exp).
    Revocation is not a property of the token: the authorization check (`cloud/common/authz.py`)
    runs on every request either way. Only tokens that passed are kept, at most `kept` of them
    (the oldest dropped first)."""

    def __init__(self, key: str, kept: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._key, self._kept, self._clock = key, kept, clock
        self._checked: dict[str, tuple[Principal, float]] = {}

    def read(self, token: str) -> Principal:
        checked = self._checked.get(token)
        if checked is not None:
            if self._clock() < checked[1]:
                return checked[0]
            del self._checked[token]
            raise _expired()
        principal, expires = _verify(self._key, token)
        if len(self._checked) >= self._kept:
            del self._checked[next(iter(self._checked))]
        self._checked[token] = (principal, expires)
        return principal


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """Secrets are stored only as hashes: a database leak leaks no usable token."""
    return hashlib.sha256(secret.encode()).hexdigest()


USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes


def new_user_code() -> str:
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"
