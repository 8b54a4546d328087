"""Runs the LAN API inside the hub's event loop (uvicorn), and advertises it over mDNS."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from pathlib import Path

from edge_runtime.api.app import create_api
from edge_runtime.api.context import HubContext
from edge_runtime.api.discovery import Advertiser, advertised_addresses

log = logging.getLogger("companion.api")


def running_file(data_dir: Path) -> Path:
    """Where a running hub says which port its API took (the setting may be 0: any free port)."""
    return data_dir / "api.json"


def running_api(data_dir: Path) -> dict[str, object] | None:
    path = running_file(data_dir)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


class ApiServer:
    def __init__(self, hub: HubContext) -> None:
        import uvicorn

        self.hub = hub
        s = hub.settings
        config = uvicorn.Config(
            create_api(hub),
            host=s.api_host,
            port=s.api_port,
            log_level="warning",
            lifespan="off",
            ws_max_size=1 << 20,
            access_log=False,
            ssl_certfile=s.api_tls_cert_file,
            ssl_keyfile=s.api_tls_key_file,
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None
        self.advertiser: Advertiser | None = None
        self.port = s.api_port
        self.host = s.api_host
        self.scheme = "https" if s.api_tls_cert_file else "http"

    async def start(self) -> ApiServer:
        """Binds first, so a taken port is an OSError here rather than uvicorn's sys.exit in a task."""
        s = self.hub.settings
        family = socket.AF_INET6 if ":" in s.api_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((s.api_host, s.api_port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]), name="lan-api")
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("the LAN API stopped at start")
            await asyncio.sleep(0.02)
        if s.api_mdns:
            home = self.hub.peers.link.home.home_id if self.hub.peers is not None else None
            addresses = advertised_addresses(s.api_host)
            self.advertiser = Advertiser(self.hub.hub_id, s.hub_name, self.port, addresses, home=home)
            try:
                if not await self.advertiser.start():
                    self.advertiser = None
            except OSError as err:  # no multicast on this network: the app can still be given the address
                log.warning("api.mdns_failed", extra={"error": str(err)})
                self.advertiser = None
        log.info("api.up", extra={"host": s.api_host, "port": self.port, "mdns": self.advertiser is not None})
        running_file(s.data_dir).write_text(json.dumps({"host": s.api_host, "port": self.port, "pid": os.getpid()}))
        return self

    def lan_url(self) -> str:
        """Where the app reaches this API: its first LAN address, or the bound host when that is one
        address (a loopback-only API is reachable from this machine alone)."""
        addresses = advertised_addresses(self.host) or [self.host]
        host = addresses[0]
        return f"{self.scheme}://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def stop(self) -> None:
        running_file(self.hub.settings.data_dir).unlink(missing_ok=True)
        if self.advertiser is not None:
            await self.advertiser.stop()
        self.server.should_exit = True
        if self.task is not None:
            await self.task
