"""`common.asgi.BodyLimit`, the request-size guard both tiers' servers put in front of their apps,
driven with ASGI messages as a server sends them: a request without a body is passed through
without reading one, and every way of sending a body is still measured."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from common.asgi import BodyLimit

Message = dict[str, Any]


class App:
    """Records what reached it: the body it read, and whether it was reached at all."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        body = b""
        if scope["method"] != "GET":
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes], method: str = "POST", **scope: Any) -> Any:
    app = App()
    guard = BodyLimit(app, limit=10)
    received: list[Message] = []
    events = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    read = [0]

    async def receive() -> Message:
        read[0] += 1
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        received.append(message)

    base = {"type": "http", "method": method, "path": "/x", "query_string": b"", "http_version": "1.1"}
    asyncio.run(guard({**base, **scope, "headers": headers}, receive, send))
    return app, received, read[0]


def test_a_request_without_a_body_is_passed_on_unread() -> None:
    app, sent, reads = call([(b"host", b"x")], [b""], method="GET")
    assert sent[0]["status"] == 200 and app.bodies == [b""]
    assert reads == 0  # HTTP/1.1 with neither Content-Length nor Transfer-Encoding: no body to read


def test_a_chunked_body_over_the_limit_is_refused() -> None:
    chunked = [(b"transfer-encoding", b"chunked")]
    app, sent, _ = call(chunked, [b"123456", b"789012"])
    assert sent[0]["status"] == 413 and app.bodies == []
    assert json.loads(sent[1]["body"])["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    app, sent, reads = call([(b"content-length", b"11")], [b"x" * 11])
    assert sent[0]["status"] == 413 and reads == 0 and app.bodies == []


def test_a_nul_in_a_body_is_refused_and_a_clean_one_replayed_whole() -> None:
    length = [(b"content-length", b"6")]
    _, sent, _ = call(length, [b"ab\x00", b"cd"])
    assert sent[0]["status"] == 422
    app, sent, _ = call(length, [b"abc", b"def"])
    assert sent[0]["status"] == 200 and app.bodies == [b"abcdef"]


def test_http2_without_a_length_is_still_measured() -> None:
    """HTTP/2 carries a body without either header, so only HTTP/1.x takes the shortcut."""
    app, sent, reads = call([], [b"123456", b"789012"], http_version="2")
    assert sent[0]["status"] == 413 and reads == 2 and app.bodies == []
