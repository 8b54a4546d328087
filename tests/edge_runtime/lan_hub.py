"""A hub's LAN API running for real: uvicorn on loopback, the device layer on a real broker with
the simulated evaluation home, and the brain (no LLM: the local routes are what these tests need)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edge_runtime.api import ApiServer, HubContext
from edge_runtime.settings import EdgeSettings
from tests.eval.home import RunningHome, running_home


@dataclass
class LanHub:
    home: RunningHome
    context: HubContext
    server: ApiServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def code(self) -> str:
        return self.context.pairing.current_code()[0]

    async def pair(self, client: httpx.AsyncClient, name: str = "phone") -> dict[str, Any]:
        answer = await client.post("/v1/pairing", json={"code": self.code(), "name": name})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


@asynccontextmanager
async def lan_hub(
    broker_url: str,
    tmp_path: Path,
    *,
    engines: Any = None,
    registry: Any = None,
    home: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[LanHub]:
    """With `engines` and `registry`, WebRTC sessions too (each its own pipeline, as in `hub up`).
    `home`: `running_home`'s options (another home's config, the hub's room, the small LLM)."""
    edge = EdgeSettings(
        config_dir=tmp_path / "config", data_dir=tmp_path / "data", api_port=0, api_mdns=False, **settings
    )
    async with running_home(broker_url, tmp_path / "devices.sqlite3", **(home or {})) as running:
        context = HubContext.open(edge, "hub-test0000000000", devices=running.devices, brain=running.brain)
        if engines is not None:
            from edge_runtime.brain.device_skill import DeviceSkill
            from edge_runtime.clock import SystemClock
            from edge_runtime.webrtc import HubParts, WebRtcSessions, device_events

            skill = DeviceSkill(running.devices)  # one intent engine, shared by every session (as HubApp does)
            context.webrtc = WebRtcSessions(
                edge,
                engines,
                SystemClock(),
                registry=registry,
                parts=lambda _: HubParts(devices=skill, device_events=device_events(running.devices)),
            )
        context.start()
        server = await ApiServer(context).start()
        try:
            yield LanHub(running, context, server)
        finally:
            await server.stop()
            await context.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
