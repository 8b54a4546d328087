"""Pure-ASGI middleware: request ids, access logs and metrics (HTTP and WebSocket), and the last resort for errors
nobody else answered. The request-size limit is both tiers' own (`common.asgi.BodyLimit`)."""

from __future__ import annotations

import itertools
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
        # The labelled series, kept: prometheus_client's `labels()` checks and locks at every call.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}
        # Request ids: this process's random prefix and a count, 32 hex digits as a uuid4's, unique
        # without asking the OS for randomness at every request.
        self._ids = map("{}{:016x}".format, itertools.repeat(uuid.uuid4().hex[:16]), itertools.count())

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or () if k == b"x-request-id"), b"")
        request_id = given.decode("latin-1")[:64] or next(self._ids)
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
            self._series(scope["method"], route, status[0]).inc()
            timed = self._timed.get((scope["method"], route))
            if timed is None:
                timed = self._timed[scope["method"], route] = self.metrics.latency.labels(scope["method"], route)
            timed.observe(elapsed)
            if log.isEnabledFor(logging.INFO):
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

    def _series(self, method: str, route: str, status: int) -> Any:
        key = (method, route, str(status))
        counted = self._counted.get(key)
        if counted is None:
            counted = self._counted[key] = self.metrics.requests.labels(*key)
        return counted

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
