"""A real HTTP server on loopback that records webhook posts and answers with scripted statuses."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    def __init__(self, statuses: list[int] | None = None, default: int = 200, *, hold_first_s: float = 0.0) -> None:
        self.statuses: deque[int] = deque(statuses or [])
        self.default = default
        self.hold_first_s = hold_first_s  # the first post is answered only this late: a delivery in flight
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(time.monotonic(), self.path, dict(self.headers.items()), body))
                if len(receiver.received) == 1 and receiver.hold_first_s:
                    time.sleep(receiver.hold_first_s)
                status = receiver.statuses.popleft() if receiver.statuses else receiver.default
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender went away meanwhile (killed)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"got {len(self.received)} webhook posts, wanted {count}"
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
