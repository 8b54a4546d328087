"""Webhook signatures, the way receivers check them: HMAC-SHA256 over "<timestamp>.<body>".

The timestamp is signed too, so a captured delivery can't be replayed after `tolerance_s`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Companion-Signature"
TIMESTAMP_HEADER = "X-Companion-Timestamp"
DELIVERY_HEADER = "X-Companion-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300, now: float | None = None
) -> bool:
    """What a receiver runs: the right key, the same bytes, and a fresh timestamp."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def signed_headers(secret: str, delivery_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Companion-Webhooks/1",
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
