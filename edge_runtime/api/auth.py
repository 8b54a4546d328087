"""Who may call the LAN API: a paired app's token (bearer header, or ?access_token= for a
browser's WebSocket). Only health and the pairing bootstrap go without."""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from common.asgi import connection_token
from common.ratelimit import SlidingWindows
from edge_runtime.api.context import HubContext
from edge_runtime.api.pairing import PairedApp, PairingError

bearer = HTTPBearer(auto_error=False, description="An app token from POST /v1/pairing")


def context(conn: HTTPConnection) -> HubContext:
    ctx: HubContext = conn.app.state.hub
    return ctx


Hub = Annotated[HubContext, Depends(context)]


def app_for(conn: HTTPConnection, token: str | None) -> PairedApp:
    if not token:
        raise PairingError(
            "this route needs an app token",
            code="TOKEN_MISSING",
            hint="pair the app with the hub's code: POST /v1/pairing",
        )
    return context(conn).pairing.authenticate(token)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_app(request: Request, credentials: Credentials) -> PairedApp:
    return app_for(request, credentials.credentials if credentials else None)


def socket_app(conn: HTTPConnection) -> PairedApp:
    return app_for(conn, connection_token(conn.headers, conn.query_params))


App = Annotated[PairedApp, Depends(current_app)]


class AttemptLimiter:
    """Pairing attempts per client address in a sliding window, on top of the per-code limit.
    IPv6 clients count per /64 (one host can hold a whole one), and at most `max_clients`
    are tracked, the least recently seen forgotten first (common.ratelimit keeps the window)."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self.windows = SlidingWindows(max_keys=max_clients)

    @property
    def seen(self) -> OrderedDict[str, deque[float]]:
        return self.windows.seen

    def check(self, client: str) -> None:
        allowed, retry_s = self.windows.hit(_client_key(client), self.limit, self.window_s)
        if not allowed:
            raise PairingError(
                "too many pairing attempts", code="PAIRING_RATE_LIMITED", hint=f"wait {round(retry_s + 0.5)} s"
            )


def pair_limiter(conn: HTTPConnection) -> AttemptLimiter:
    limiter: AttemptLimiter = conn.app.state.pair_limiter
    return limiter


PairLimit = Annotated[AttemptLimiter, Depends(pair_limiter)]


def _client_key(client: str) -> str:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if not address.is_loopback:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
