"""ASGI pieces both tiers' HTTP servers use (pure ASGI, so importing this needs no web framework)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Scope = dict[str, Any]
ErrorBody = Callable[[str, str, int], dict[str, Any]]


def connection_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """A WebSocket's token: the bearer header, or `?access_token=`, since a browser cannot set
    headers on a WebSocket. None when there is neither."""
    header = headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else query.get("access_token", "")
    return token or None


def error_body(code: str, message: str, status: int) -> dict[str, Any]:
    """The error shape both tiers answer with: {"error": {"code", "message"}}."""
    return {"error": {"code": code, "message": message}}


_NUL = (b"\x00", b"\\u0000", b"%00")


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413, whether declared up front or streamed, and NUL
    characters anywhere with 422: no text we keep may hold one (PostgreSQL refuses them). Binary
    bodies (application/octet-stream: sync's Yjs updates) may hold NULs. `routes` maps path
    prefixes that take raw media (images, audio) to a limit of their own: a photo is bigger than
    any JSON request, and nothing of these bodies is kept as text, so NULs pass there too."""

    def __init__(
        self, app: Any, limit: int, routes: dict[str, int] | None = None, error: ErrorBody = error_body
    ) -> None:
        self.app = app
        self.limit = limit
        self.routes = routes or {}
        self.error = error

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        own = next((n for prefix, n in self.routes.items() if path.startswith(prefix)), None)
        limit = own or self.limit
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit=limit)
            return
        query = scope.get("query_string", b"")
        if (query and any(n in query for n in _NUL)) or "\x00" in path:
            await self._reject(send, 422)
            return
        if declared is None and b"transfer-encoding" not in headers and scope.get("http_version", "1.1")[0] == "1":
            # HTTP/1.x: a request with neither header has no body (RFC 9112, 6.3), so nothing to read
            await self.app(scope, receive, send)
            return
        # Read the whole (bounded) body first: errors raised while the app reads it would be
        # swallowed by FastAPI's body parser, so check here and replay it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._reject(send, 413, limit=limit)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        whole = b"".join(chunks)
        kind = headers.get(b"content-type", b"")
        binary = own is not None or kind.startswith((b"application/octet-stream", b"application/pdf"))
        if not binary and any(n in whole for n in _NUL):
            await self._reject(send, 422)
            return
        await self.app(scope, _replay(whole, receive), send)

    async def _reject(self, send: Any, status: int = 413, *, limit: int | None = None) -> None:
        if status == 413:
            error = self.error("PAYLOAD_TOO_LARGE", f"request bodies are limited to {limit or self.limit} bytes", 413)
        else:
            error = self.error("INVALID_REQUEST", "NUL characters are not allowed", status)
        payload = json.dumps(error).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _replay(whole: bytes, receive: Any) -> Any:
    """An ASGI receive that hands the app the body we already read, then the client's own events
    (so a disconnect still reaches a streaming response)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": whole, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    return replay
