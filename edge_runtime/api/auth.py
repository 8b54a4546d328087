"""Who may call the LAN API: a paired app's token (bearer header, or ?access_token= for a
browser's WebSocket). Only health and the pairing bootstrap go without."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from edge_runtime.api.context import HubContext
from edge_runtime.api.pairing import PairedApp, PairingError

bearer = HTTPBearer(auto_error=False, description="An app token from POST /v1/pairing")


def context(conn: HTTPConnection) -> HubContext:
    ctx: HubContext = conn.app.state.hub
    return ctx


Hub = Annotated[HubContext, Depends(context)]


def app_for(conn: HTTPConnection, token: str | None) -> PairedApp:
    if not token:
        raise PairingError("this route needs an app token", code="TOKEN_MISSING",
                           hint="pair the app with the hub's code: POST /v1/pairing")  # fmt: skip
    return context(conn).pairing.authenticate(token)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_app(request: Request, credentials: Credentials) -> PairedApp:
    return app_for(request, credentials.credentials if credentials else None)


def socket_app(conn: HTTPConnection) -> PairedApp:
    header = conn.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else conn.query_params.get("access_token")
    return app_for(conn, token)


App = Annotated[PairedApp, Depends(current_app)]


class AttemptLimiter:
    """Pairing attempts per client address in a sliding window, on top of the per-code limit."""

    def __init__(self, limit: int = 10, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str) -> None:
        now = time.monotonic()
        hits = self.seen[client]
        while hits and now - hits[0] > self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            raise PairingError("too many pairing attempts", code="PAIRING_RATE_LIMITED",
                               hint=f"wait {round(self.window_s - (now - hits[0]) + 0.5)} s")  # fmt: skip
        hits.append(now)
        if len(self.seen) > 10_000:  # many addresses: forget the idle ones
            for key in [k for k, v in self.seen.items() if not v or now - v[-1] > self.window_s]:
                del self.seen[key]
