"""Cloud notifications said aloud on a linked hub (#21): against the real cloud (PostgreSQL, its
notification socket) and a hub built by the composition root with the real engines. Only a
notification that asks to be spoken is said, and only on the hubs or in the rooms it names."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge_runtime.app import HubApp, HubOptions
from edge_runtime.app_events import AnnouncementEvent
from edge_runtime.cloud_notify import spoken
from edge_runtime.engines import Engines
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from tests.cloud.server import CloudServer, bearer, fresh_database, link_hub


def test_which_notifications_are_said_and_where() -> None:
    note = {"type": "notification", "title": "Parcel", "body": "It is at the door.", "data": {"speak": True}}
    assert spoken(note, "hub-a", "Hall") == "Parcel. It is at the door."
    assert spoken({**note, "data": {}}, "hub-a", "Hall") is None  # not asked to be spoken
    assert spoken({**note, "data": {"speak": "yes"}}, "hub-a", "Hall") is None
    assert spoken({**note, "type": "ready"}, "hub-a", "Hall") is None
    assert spoken({**note, "data": {"speak": True, "hubs": ["hub-b"]}}, "hub-a", "Hall") is None
    assert spoken({**note, "data": {"speak": True, "hubs": ["hub-a"]}}, "hub-a", "Hall") is not None
    assert spoken({**note, "data": {"speak": True, "rooms": ["Kitchen"]}}, "hub-a", "Hall") is None
    assert spoken({**note, "data": {"speak": True, "rooms": ["hall"]}}, "hub-a", "Hall") is not None
    assert spoken({**note, "body": "", "title": "Dinner"}, "hub-a", None) == "Dinner"
    assert len(spoken({**note, "body": "x" * 5000}, "hub-a", None) or "") == 400


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        services=["auth", "notification"],
        database_url=fresh_database(),
        device_code_interval_s="1",
    ) as server:
        yield server


def test_a_linked_hub_says_the_notifications_meant_for_it(cloud: CloudServer, engines: Engines, tmp_path: Path) -> None:
    settings = EdgeSettings(
        config_dir=tmp_path / "config", data_dir=tmp_path / "data", cloud_url=cloud.url, room="Hall", llm_enabled=False
    )
    user = link_hub(cloud.url, HubFiles(settings.config_dir, settings.data_dir))
    heard: list[Any] = []

    def send(http: httpx.Client, title: str, **data: Any) -> None:
        sent = http.post("/v1/notify", json={"topic": "home", "title": title, "data": data})
        assert sent.status_code == 202, sent.text

    async def scenario() -> None:
        options = HubOptions(devices=False, sync=False, vision=False, api=False)
        async with HubApp(settings, engines=engines, options=options) as app:
            assert app.notifications is not None and app.voice is not None
            app.voice.events.listeners.append(lambda e: heard.append(e) if isinstance(e, AnnouncementEvent) else None)
            await asyncio.wait_for(app.notifications.connected.wait(), 20)
            with httpx.Client(base_url=cloud.url, headers=bearer(user["access_token"])) as http:
                await asyncio.to_thread(send, http, "Not for speaking")  # no data.speak
                await asyncio.to_thread(send, http, "Another hub", speak=True, hubs=["someone-else"])
                await asyncio.to_thread(send, http, "The kitchen", speak=True, rooms=["Kitchen"])
                await asyncio.to_thread(send, http, "The parcel is here", speak=True, rooms=["hall"])
            deadline = time.monotonic() + 20
            while not heard and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # anything else pushed would have come by now

    asyncio.run(scenario())
    assert [(e.text, e.from_hub) for e in heard] == [("The parcel is here", "cloud")]
