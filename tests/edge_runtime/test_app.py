"""The composition root: the only place a hub is assembled, and one that stops everything it started,
also when a part fails half-way."""

from __future__ import annotations

import ast
import asyncio
import json
import socket
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.app import HubApp, HubOptions
from edge_runtime.devices import BrokerUnavailable
from edge_runtime.settings import EdgeSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("edge_runtime", "cli", "cloud", "models", "device_drivers", "sync", "bench", "scripts")


def constructions(name: str) -> list[str]:
    """Every `name(...)` call in the product's code (tests excluded), as path:line."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_one_place_builds_a_brain_and_one_builds_a_device_hub() -> None:
    brains, hubs = constructions("Brain"), constructions("DeviceHub")
    assert [b.split(":")[0] for b in brains] == ["edge_runtime/brain/factory.py"], brains
    assert [h.split(":")[0] for h in hubs] == ["edge_runtime/devices/__init__.py"], hubs


def settings_in(tmp_path: Path, mqtt_url: str) -> EdgeSettings:
    return EdgeSettings(
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        mqtt_url=mqtt_url,
        api_port=0,
        api_mdns=False,
        llm_enabled=False,
        cloud_escalation=False,
    )


def paho_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("paho-mqtt-client"))


def test_the_app_builds_its_parts_once_and_stops_them_all(mosquitto: Mosquitto, tmp_path: Path) -> None:
    before = paho_threads()

    async def scenario() -> tuple[str, int]:
        options = HubOptions(api=True, sync=False, settle_s=5.0)
        async with HubApp(settings_in(tmp_path, mosquitto.url), options=options) as app:
            assert app.lan is not None and app.device_hub is not None and app.brain is not None
            assert app.brain.devices is app.devices  # the one device skill, shared
            url = f"http://127.0.0.1:{app.lan.port}"
            async with httpx.AsyncClient(base_url=url) as http:
                health = (await http.get("/health")).json()
            assert health["status"] == "ok" and health["devices"] is True
            # The device layer's two connections and the link to the home's other hubs.
            assert app.peers is not None
            await asyncio.wait_for(app.peers.link.connected.wait(), 5)
            assert app.device_hub.link.connected.is_set() and paho_threads() == before + 3
            answer = await app.brain.handle("what time is it")
            assert answer.intent == "time"
            return url, app.lan.port

    _, port = asyncio.run(scenario())
    assert paho_threads() == before  # every MQTT connection closed
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the LAN API no longer listens


def test_a_part_failing_half_way_stops_what_had_started(tmp_path: Path) -> None:
    """No broker: the device layer starts (and keeps retrying), then waiting for discovery fails;
    everything started before it is stopped, nothing is left running."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nobody = free.getsockname()[1]
    before = paho_threads()
    app = HubApp(settings_in(tmp_path, f"mqtt://127.0.0.1:{nobody}"), options=HubOptions(sync=False, settle_s=0.5))

    async def scenario() -> None:
        async with app:
            raise AssertionError("the app should not have started")

    with pytest.raises(BrokerUnavailable) as failed:
        asyncio.run(scenario())
    assert failed.value.code == "MQTT_DISCONNECTED"
    assert paho_threads() == before
    assert app.replica is not None
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):  # the sync store was closed on the way out
        app.replica.store.db.execute("SELECT 1")


def test_the_hubs_cameras_reach_its_brain_its_app_and_its_event_stream(engines, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`hub up`'s assembly with one camera (a folder of photos): the voice question is answered from
    it, the app lists it, its event arrives on /v1/events, and each WebRTC session's brain gets it too."""
    import cv2
    import websockets

    from edge_runtime.vision import config
    from edge_runtime.vision.config import CameraConfig
    from edge_runtime.webrtc import SessionOptions
    from tests.edge_runtime.vision_images import photo

    drop = tmp_path / "drop"
    drop.mkdir()
    cv2.imwrite(str(drop / "a.png"), photo("coffee"))  # nobody there yet
    settings = settings_in(tmp_path, "mqtt://127.0.0.1:1").model_copy(update={"room": "hall"})
    config.add(settings.config_dir, CameraConfig("front door", str(drop), room="hall", motion=False, people=True))

    async def scenario() -> tuple[str, list[str], dict[str, object]]:
        options = HubOptions(devices=False, api=True, sync=False)
        async with HubApp(settings, engines=engines, options=options) as app:
            assert app.vision is not None and app.lan is not None and app._context is not None and app.brain
            code = app._context.pairing.current_code()[0]
            url = f"http://127.0.0.1:{app.lan.port}"
            async with httpx.AsyncClient(base_url=url) as http:
                token = (await http.post("/v1/pairing", json={"code": code, "name": "phone"})).json()["token"]
                ws_url = url.replace("http", "ws") + f"/v1/events?access_token={token}"
                async with websockets.connect(ws_url) as ws:
                    assert json.loads(await ws.recv())["type"] == "ready"
                    cv2.imwrite(str(drop / "b.png"), photo("astronaut"))  # someone steps in
                    camera = None
                    while camera is None:
                        event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        camera = event if event["type"] == "camera" else None
                listed = (await http.get("/v1/cameras", headers={"Authorization": f"Bearer {token}"})).json()
            reply = (await app.brain.handle("is anyone at the front door")).reply
            parts = app.session_parts(SessionOptions())
            assert parts.attach is not None and parts.attach == app.vision.attach
            return reply, [c["name"] for c in listed], camera

    reply, names, camera = asyncio.run(scenario())
    assert reply == "Yes, I can see someone at the front door."
    assert names == ["front door"]
    assert (camera["kind"], camera["camera"], camera["text"]) == ("person", "front door", "A person in the hall.")


def test_a_turn_acted_on_at_a_pause_shows_each_phase_once() -> None:
    """The phases an app shows, whatever order a loaded box brings the marks in: a committed command's
    endpoint may come after its reply began, and says nothing new."""
    from edge_runtime.app_events import PhaseEvents, StateEvent, TurnStream
    from edge_runtime.trace import Mark

    def phases(events: list[str]) -> list[str]:
        stream, seen = TurnStream(), []
        stream.listeners.append(lambda e: seen.append(e.state) if isinstance(e, StateEvent) else None)
        judge = PhaseEvents(stream)
        for name in events:
            judge(Mark(name, 0.0, {}))
        return seen

    one_turn = ["listening", "hearing", "thinking", "speaking", "idle"]
    assert phases(["wake", "speech_start", "committed", "first_audio", "endpoint", "playback_stop"]) == one_turn
    assert phases(["wake", "speech_start", "committed", "endpoint", "first_audio", "playback_stop"]) == one_turn
    assert phases(["wake", "speech_start", "endpoint", "first_audio", "playback_stop"]) == one_turn
    two = phases(["wake", "speech_start", "endpoint", "first_audio", "playback_stop"] * 2)
    assert two == one_turn * 2  # the next turn's phases are new again
