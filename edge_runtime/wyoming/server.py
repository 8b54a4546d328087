"""The hub's Wyoming server: a TCP listener that Home Assistant adds as a Wyoming integration.

Home Assistant opens a new connection for every request (describe, transcribe, synthesize,
detect, a transcript to handle), so connections are cheap and short; at most `max_clients` run
at once, and one more is told WYOMING_BUSY and closed. Advertised over mDNS as `_wyoming._tcp`,
as Home Assistant discovers Wyoming services, when it listens beyond loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from wyoming.error import Error

from edge_runtime.wyoming.connection import Connection
from edge_runtime.wyoming.errors import Busy
from edge_runtime.wyoming.services import Services
from edge_runtime.wyoming.wire import Limits, write_event

log = logging.getLogger(__name__)
SERVICE = "_wyoming._tcp.local."


class WyomingServer:
    def __init__(
        self,
        services: Services,
        *,
        host: str = "127.0.0.1",
        port: int = 10600,
        max_clients: int = 16,
        idle_timeout_s: float = 60.0,
        limits: Limits | None = None,
    ) -> None:
        self.services = services
        self.host, self.port = host, port
        self.max_clients = max_clients
        self.idle_timeout_s = idle_timeout_s
        self.limits = limits or Limits()
        self.connections: set[asyncio.Task[None]] = set()
        self.served = 0
        self._server: asyncio.Server | None = None
        self._advertiser: Any = None

    async def start(self) -> WyomingServer:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=self.limits.header_bytes)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("wyoming.up", extra={"host": self.host, "port": self.port})
        return self

    async def advertise(self, hub_id: str, name: str) -> bool:
        """mDNS for Home Assistant's discovery; nothing to do when only loopback can reach us."""
        from edge_runtime.api.discovery import Advertiser, advertised_addresses  # the app's advertiser, reused

        addresses = advertised_addresses(self.host)
        if not addresses:
            return False
        self._advertiser = Advertiser(hub_id, name, self.port, addresses, service=SERVICE, properties={})
        return await self._advertiser.start()

    async def stop(self) -> None:
        if self._advertiser is not None:
            with contextlib.suppress(Exception):
                await self._advertiser.stop()
        if self._server is not None:
            self._server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        log.info("wyoming.down", extra={"served": self.served})

    async def __aenter__(self) -> WyomingServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.connections) >= self.max_clients:
            await self._refuse(writer)
            return
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        self.served += 1
        try:
            await Connection(
                self.services, reader, writer, limits=self.limits, idle_timeout_s=self.idle_timeout_s
            ).run()
        except asyncio.CancelledError:
            pass  # the server is stopping: this connection ends here (asyncio's stream callback must not see it)
        finally:
            self.connections.discard(task)

    async def _refuse(self, writer: asyncio.StreamWriter) -> None:
        err = Busy(
            f"the hub already serves {self.max_clients} Wyoming clients",
            hint="retry shortly, or raise COMPANION_WYOMING_MAX_CLIENTS",
        )
        log.warning("wyoming.busy", extra={"clients": len(self.connections)})
        with contextlib.suppress(Exception):
            await write_event(Error(text=str(err), code=err.code).event(), writer, self.limits)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
