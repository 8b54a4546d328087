"""WebSocket push to a user's connected apps and hubs. Every process subscribes its sockets to the
user's Redis channel, so a notification sent to one process reaches sockets held by any other.

When Redis restarts, a socket's subscription is made again and the notifications stored since it
was lost are sent from the inbox (`missed`); a socket sends each notification once, whichever way
it came."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from datetime import UTC, datetime
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.common.auth import connection_principal
from cloud.common.errors import ApiError
from cloud.common.fanout import RedisFanOut
from cloud.notification.schemas import NotificationPublic
from cloud.tables import Notification
from sync.server import MemoryFanOut

FanOut = RedisFanOut | MemoryFanOut
MISSED_MARGIN_S = 2.0  # published just before the loss may not have been read: look that far back
MISSED_AT_MOST = 200


def user_channel(user_id: str) -> str:
    return f"notify:{user_id}"


def message(notification: Notification) -> dict[str, Any]:
    public = NotificationPublic.model_validate(notification.model_dump())
    return {"type": "notification", **public.model_dump(mode="json")}


async def publish(fanout: FanOut, user_id: str, message: dict[str, Any]) -> None:
    await fanout.publish(user_channel(user_id), json.dumps(message, default=str).encode())


async def missed(sessions: async_sessionmaker[AsyncSession], channel: str, lost_at: float) -> list[bytes]:
    """What a subscription lost at `lost_at` may have missed: the user's notifications since, oldest first."""
    user_id = channel.removeprefix("notify:")
    since = datetime.fromtimestamp(lost_at - MISSED_MARGIN_S, UTC)
    async with sessions() as s:
        rows = await s.exec(
            select(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.created_at) >= since)
            .order_by(col(Notification.created_at))
            .limit(MISSED_AT_MOST)
        )
        return [json.dumps(message(n), default=str).encode() for n in rows]


async def serve_socket(ws: WebSocket, fanout: FanOut) -> None:
    """Sends {"type": "ready"} once subscribed, then each notification; answers {"type": "ping"}."""
    await ws.accept()  # then close with a code: a browser sees only "403" for a refused handshake
    try:
        principal = await connection_principal(ws, "notify")
    except ApiError as err:
        await ws.close(code=4403 if err.status == 403 else 4401, reason=err.code)
        return
    async with fanout.subscribe(user_channel(principal.user_id)) as items:
        sent: deque[str] = deque(maxlen=2 * MISSED_AT_MOST)  # ids, so a caught-up one is not sent twice

        async def forward() -> None:
            async for item in items:
                ident = str(json.loads(item).get("id", ""))
                if ident and ident in sent:
                    continue
                sent.append(ident)
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
