"""A TCP proxy on the WAN side that can make the link slow: the stand-in for netem, which this
project's test kernel lacks (`sch_netem` is not built, so `tc qdisc add ... netem delay` fails).

Every byte from the hub to the cloud and back passes through it. `delay_s` holds each chunk that
long in each direction (so a round trip costs twice that, as netem on one link would); `loss` is
applied the only way a userspace proxy can: a chunk "lost" costs an extra `loss_penalty_s`, the
retransmission timeout TCP would have paid to resend it. Order is kept. It cannot reproduce what
loss does to TCP's congestion window; it is honest about delay and stalls, which is what a hub
must not wait on. The proxy runs its own event loop in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from dataclasses import dataclass


@dataclass
class Shape:
    delay_s: float = 0.0
    loss: float = 0.0
    loss_penalty_s: float = 0.2  # Linux's minimum RTO


class DelayProxy:
    def __init__(self, listen_host: str, target_host: str, target_port: int, *, seed: int = 23) -> None:
        self.listen_host, self.target = listen_host, (target_host, target_port)
        self.shape = Shape()
        self.random = random.Random(seed)
        self.port = 0
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="delay-proxy")
        self._writers: set[asyncio.StreamWriter] = set()
        self._senders: set[asyncio.Task[None]] = set()  # each holds one direction's chunks not yet sent

    @property
    def url(self) -> str:
        return f"http://{self.listen_host}:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, self.listen_host, 0), self.loop
        ).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def slow(self, delay_s: float, loss: float = 0.0) -> None:
        self.shape = Shape(delay_s, loss)

    def normal(self) -> None:
        self.shape = Shape()

    def reset(self) -> None:
        """Every connection dropped at once, with the chunks it still held: what the hub had sent but
        the link had not yet delivered dies with it (as when the hub's own buffers die with a crash)."""

        async def drop() -> None:
            for sender in list(self._senders):
                sender.cancel()
            for writer in list(self._writers):
                writer.transport.abort()

        asyncio.run_coroutine_threadsafe(drop(), self.loop).result(10)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        self._writers -= {writer, up_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.create_task(self._send(queue, writer))
        self._senders.add(sender)
        sender.add_done_callback(self._senders.discard)
        last_due = 0.0
        try:
            while chunk := await reader.read(65536):
                shape = self.shape
                due = time.monotonic() + shape.delay_s
                if shape.loss and self.random.random() < shape.loss:
                    due += shape.loss_penalty_s
                last_due = max(due, last_due)  # in order: nothing overtakes a delayed chunk
                queue.put_nowait((last_due, chunk))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait((last_due, b""))
            with contextlib.suppress(Exception):
                await sender

    async def _send(self, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
