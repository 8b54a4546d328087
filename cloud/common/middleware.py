"""Pure-ASGI middleware: request ids, access logs and metrics (HTTP and WebSocket), the request-size limit, and the last
resort for errors nobody else answered."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from cloud.common.errors import body
from cloud.common.metrics import Metrics

log = logging.getLogger("cloud.access")
failures = logging.getLogger("cloud")
Scope = dict[str, Any]


class Observe:
    """Adds X-Request-ID, logs one JSON line per request, and records Prometheus metrics."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        status = [500]

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status[0])).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status[0],
                    "ms": round(1000 * elapsed, 2),
                },
            )

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        """Counts connections, and how many are open: the route is known once the app has routed it."""
        opened: list[str] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept" and not opened:
                opened.append(getattr(scope.get("route"), "path", "unmatched"))
                self.metrics.websockets.labels(opened[0]).inc()
                self.metrics.websockets_open.labels(opened[0]).inc()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if opened:
                self.metrics.websockets_open.labels(opened[0]).dec()


class Guard:
    """Answers an exception no handler took with a coded 500, and swallows one raised after the
    answer went out (a dependency's clean-up). Starlette's own last resort re-raises to the server,
    which then closes the keep-alive connection: the client's next request would be reset."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            failures.exception(
                "request.failed", extra={"path": scope.get("path"), "code": "INTERNAL", "after_response": started}
            )
            if started:
                return  # the answer is out; a cut-short body ends the connection, a whole one keeps it
            payload = json.dumps(body("INTERNAL", "internal error", status=500)).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": payload})


_NUL = (b"\x00", b"\\u0000", b"%00")


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413, whether declared up front or streamed, and NUL
    characters anywhere with 422: no text we keep may hold one (PostgreSQL refuses them). Binary
    bodies (application/octet-stream: sync's Yjs updates) may hold NULs. `routes` maps path
    prefixes that take raw media (images, audio) to a limit of their own: a photo is bigger than
    any JSON request, and nothing of these bodies is kept as text, so NULs pass there too."""

    def __init__(self, app: Any, limit: int, routes: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.routes = routes or {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        own = next((n for prefix, n in self.routes.items() if path.startswith(prefix)), None)
        limit = own or self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit=limit)
            return
        if any(n in scope.get("query_string", b"") for n in _NUL) or "\x00" in scope.get("path", ""):
            await self._reject(send, 422)
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
        kind = dict(scope.get("headers") or []).get(b"content-type", b"")
        binary = own is not None or kind.startswith((b"application/octet-stream", b"application/pdf"))
        if not binary and any(n in whole for n in _NUL):
            await self._reject(send, 422)
            return
        await self.app(scope, _replay(whole, receive), send)

    async def _reject(self, send: Any, status: int = 413, *, limit: int | None = None) -> None:
        if status == 413:
            error = body("PAYLOAD_TOO_LARGE", f"request bodies are limited to {limit or self.limit} bytes", status=413)
        else:
            error = body("INVALID_REQUEST", "NUL characters are not allowed", status=status)
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
