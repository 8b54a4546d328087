"""Camera events to the user's phone through the cloud (POST /v1/notify), as text: the body is
`events.notification`, which carries a snapshot only for a camera whose owner allowed it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from edge_runtime.vision.service import Notify


def cloud_notifier(base_url: str, token: Callable[[], str], *, timeout_s: float = 10.0) -> Notify:
    """`token` is the hub's access token, fetched per call (the cloud client refreshes it)."""
    url = base_url.rstrip("/") + "/v1/notify"

    async def send(body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token()}"})
            response.raise_for_status()

    return send
