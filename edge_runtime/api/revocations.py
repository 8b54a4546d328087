"""Revoked apps lose what they have open: their event streams and WebRTC sessions, whether the
revocation came over the LAN API or from `companion hub revoke` in another process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from edge_runtime.api.events import EventBus
from edge_runtime.api.pairing import PairingStore

if TYPE_CHECKING:
    from edge_runtime.api.context import WebRtcHost

REVOCATION_POLL_S = 2.0


class Revocations:
    """Cuts a revoked app off once, and polls the pairing store for revocations made elsewhere.
    `sessions` is read when an app is cut off: the WebRTC host may be attached after this is made."""

    def __init__(
        self, pairing: PairingStore, bus: EventBus, sessions: Callable[[], WebRtcHost | None] = lambda: None
    ) -> None:
        self.pairing, self.bus, self._sessions = pairing, bus, sessions
        self.cut: set[str] = set()  # revoked apps whose connections were closed

    async def cut_off(self, app_id: str) -> None:
        if app_id in self.cut:
            return
        self.cut.add(app_id)
        self.bus.publish("revoked", app=app_id)  # its event streams close on this
        sessions = self._sessions()
        if sessions is not None:
            await sessions.close_owned_by(app_id, "token-revoked")

    async def watch(self, every_s: float = REVOCATION_POLL_S) -> None:
        """`companion hub revoke` writes the store from another process: notice it here. Apps
        revoked before the hub started have nothing open to close."""
        self.cut |= {a.id for a in self.pairing.apps(include_revoked=True) if a.revoked}
        while True:
            await asyncio.sleep(every_s)
            for app in self.pairing.apps(include_revoked=True):
                if app.revoked:
                    await self.cut_off(app.id)
