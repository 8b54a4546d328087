"""The request-size limit, applied before routing: an unauthenticated client must not make the
hub buffer a body of any size on the way to its 401."""

from __future__ import annotations

import json
from typing import Any

TOO_LARGE = "PAYLOAD_TOO_LARGE"  # the cloud's code for the same refusal


class BodyLimit:
    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # chunked, with no length declared
                refused = True
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
        if refused:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        payload = json.dumps({"error": {"code": TOO_LARGE, "message": f"request bodies are limited to "
                                                                       f"{self.limit} bytes"}}).encode()  # fmt: skip
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})
