"""WebSocket push to a user's connected apps and hubs. Every process subscribes its sockets to the
user's Redis channel, so a notification sent to one process reaches sockets held by any other."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from cloud.common.auth import connection_principal
from cloud.common.errors import ApiError
from cloud.common.fanout import RedisFanOut
from sync.server import MemoryFanOut

FanOut = RedisFanOut | MemoryFanOut


def user_channel(user_id: str) -> str:
    return f"notify:{user_id}"


async def publish(fanout: FanOut, user_id: str, message: dict[str, Any]) -> None:
    await fanout.publish(user_channel(user_id), json.dumps(message, default=str).encode())


async def serve_socket(ws: WebSocket, fanout: FanOut) -> None:
    """Sends {"type": "ready"} once subscribed, then each notification; answers {"type": "ping"}."""
    await ws.accept()  # then close with a code: a browser sees only "403" for a refused handshake
    try:
        principal = await connection_principal(ws, "notify")
    except ApiError as err:
        await ws.close(code=4403 if err.status == 403 else 4401, reason=err.code)
        return
    async with fanout.subscribe(user_channel(principal.user_id)) as items:

        async def forward() -> None:
            async for item in items:
                await ws.send_text(item.decode())

        forwarder = asyncio.create_task(forward())
        await ws.send_json({"type": "ready", "user": principal.user_id})
        try:
            await _answer(ws)
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await forwarder


async def _answer(ws: WebSocket) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            parsed = json.loads(message.get("text") or "")
            kind = parsed.get("type") if isinstance(parsed, dict) else None
        except ValueError:
            kind = None
        if kind == "ping":
            await ws.send_json({"type": "pong", "t": parsed.get("t")})
        else:
            await ws.send_json(
                {
                    "type": "error",
                    "code": "NOTIFY_BAD_MESSAGE",
                    "message": 'only {"type": "ping"} is read on this socket',
                }
            )
