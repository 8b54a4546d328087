"""Long-lived API keys: what OpenAI-style clients send as `Authorization: Bearer ck_...`.

A key is shown once, when made; the database keeps only its sha256, so a leaked table holds no
usable key. Every request looks the hash up, so a revoked key stops working at once in every
process, with no cache to go stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from cloud.common.errors import Unauthorized
from cloud.common.tokens import Principal, digest, new_secret
from cloud.tables import ApiKey, now

KEY_PREFIX = "ck_"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


def new_key() -> str:
    return KEY_PREFIX + new_secret(32)


async def authenticate_key(state: Any, secret: str) -> Principal:
    metrics = getattr(state, "metrics", None)
    async with state.sessions() as s:
        key = (await s.exec(select(ApiKey).where(ApiKey.key_hash == digest(secret)))).first()
        if key is None or key.revoked_at is not None:
            if metrics is not None:
                metrics.api_key_auth.labels("revoked" if key else "unknown").inc()
            if key is None:
                raise Unauthorized("this API key is not valid", code="API_KEY_INVALID")
            raise Unauthorized(
                "this API key has been revoked",
                code="API_KEY_REVOKED",
                hint="create a new one: companion cloud keys create",
            )
        used = key.last_used_at
        if used is None or (used if used.tzinfo else used.replace(tzinfo=UTC)) < now() - TOUCH_EVERY:
            key.last_used_at = datetime.now(UTC)
            s.add(key)
            await s.commit()
        principal = Principal(key.user_id, None, frozenset(key.scopes.split()), key_id=key.id)
    if metrics is not None:
        metrics.api_key_auth.labels("ok").inc()
    return principal
