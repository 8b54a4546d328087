"""Frames never leave the hub by default (#20): a motion event's notification crosses to a real HTTP
server standing in for the cloud as text only; only a camera whose owner allowed it sends a snapshot."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.notify import cloud_notifier
from edge_runtime.vision.service import VisionService
from tests.edge_runtime.vision_stream import MjpegServer

JPEG_START = b"\xff\xd8\xff"


class Cloud(ThreadingHTTPServer):
    """Keeps every request's path, headers and raw body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                cloud.seen.append((self.path, dict(self.headers), body))
                self.send_response(202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _notifications(snapshot_to_cloud: bool) -> list[tuple[str, dict[str, str], bytes]]:
    cloud = Cloud()
    try:
        with MjpegServer() as stream:
            garage = CameraConfig(
                "garage",
                stream.url,
                room="garage",
                zones=[[0.0, 0.0, 0.5, 1.0]],
                hold_s=0.5,
                snapshot_to_cloud=snapshot_to_cloud,
            )

            async def scenario() -> None:
                notify = cloud_notifier(cloud.url, lambda: "hub-token")
                async with VisionService([garage], notify=notify):
                    deadline = time.monotonic() + 20
                    while not cloud.seen and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)

            asyncio.run(scenario())
    finally:
        cloud.shutdown()
    assert cloud.seen, "no notification reached the cloud"
    return cloud.seen


def test_by_default_a_camera_event_reaches_the_cloud_as_text_only() -> None:
    for path, headers, raw in _notifications(snapshot_to_cloud=False):
        assert path == "/v1/notify" and headers["Authorization"] == "Bearer hub-token"
        assert headers["Content-Type"] == "application/json" and len(raw) < 400, len(raw)
        assert JPEG_START not in raw and base64.b64encode(JPEG_START)[:3] not in raw
        body = json.loads(raw)
        assert set(body) == {"topic", "title", "body", "data"} and set(body["data"]) == {"camera", "room", "kind", "at"}
        assert (body["topic"], body["title"]) == ("camera.motion", "Motion in the garage.")
        strings = [v for v in [*body.values(), *body["data"].values()] if isinstance(v, str)]
        assert all(len(s) < 100 for s in strings)


def test_a_snapshot_goes_only_where_the_camera_allows_it() -> None:
    """The check above could fail: with the per-camera setting on, the frame is in the body."""
    (_path, _headers, raw), *_ = _notifications(snapshot_to_cloud=True)
    snapshot = base64.b64decode(json.loads(raw)["data"]["snapshot_jpeg_b64"])
    assert snapshot.startswith(JPEG_START) and len(raw) > 5000
