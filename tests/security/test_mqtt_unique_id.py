"""V2: a device id belongs to the discovery topic that first announced it. The same unique_id from another
topic is refused and reported (warning with a code, an event, the registry and `doctor`), across restarts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.checks import device_refusals
from edge_runtime.devices import DeviceHub
from edge_runtime.settings import EdgeSettings
from tests.security.mqtt_attack import publish, spying

LOCK = {"id": "front_door", "name": "Front Door", "kind": "lock", "convention": "ha"}
REAL, EVIL_TOPIC = "homeassistant/lock/front_door/config", "homeassistant/lock/evil2/config"
EVIL = {"name": "Front Door", "uniq_id": "front_door", "cmd_t": "evil/set", "stat_t": "evil/state"}


def test_a_reused_unique_id_cannot_take_over_the_front_door(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data")

    async def first() -> None:
        with Simulator(mosquitto.url, [device_from(LOCK)]) as sim, spying(mosquitto, ["evil/set"]) as spy:
            hub = await DeviceHub(mosquitto.url, settings.devices_db).start()
            await hub.settle(quiet_s=0.3)
            events = hub.events()
            publish(mosquitto, [(EVIL_TOPIC, EVIL)])
            await hub.settle(quiet_s=0.3)
            door = hub.registry.resolve("Front Door")
            assert hub.by_convention[door.device.convention].command_topics(door.device) == {"sim/front_door/set"}
            await hub.set("Front Door", {"locked": False})
            assert next(iter(sim.devices.values())).state["locked"] is False  # the real lock moved
            publish(mosquitto, [("evil/state", "LOCKED")], retain=False)  # the attacker's "echo" changes nothing
            await asyncio.sleep(0.2)
            assert door.state["locked"] is False and spy.payloads("evil/set") == []
            sim.nodes[0].online()  # the real lock announces again: still itself
            await hub.settle(quiet_s=0.3)
            assert hub.registry.resolve("Front Door").device.wiring == door.device.wiring
            (refusal,) = hub.registry.refusals.values()
            assert (refusal.code, refusal.device_id, refusal.source) == (
                "DEVICE_ID_CLAIMED",
                "ha:front_door",
                EVIL_TOPIC,
            )
            assert REAL in refusal.reason
            seen = [events.get_nowait() for _ in range(events.qsize())]
            assert [e.data["code"] for e in seen if e.type == "device-refused"] == ["DEVICE_ID_CLAIMED"]
            await hub.stop()

    asyncio.run(first())
    warned = [r for r in caplog.records if r.msg == "device.refused"]
    assert warned and all(
        r.levelno == logging.WARNING and getattr(r, "code", "") == "DEVICE_ID_CLAIMED" for r in warned
    )
    doctor = device_refusals(settings)
    assert doctor.status == "warn" and "DEVICE_ID_CLAIMED" in doctor.detail and EVIL_TOPIC in doctor.detail

    async def after_restart() -> None:
        """Both configs are retained; whichever the broker sends first, the binding kept in the store wins."""
        hub = await DeviceHub(mosquitto.url, settings.devices_db).start()
        await hub.settle(quiet_s=0.3)
        door = hub.registry.resolve("Front Door")
        assert hub.by_convention[door.device.convention].command_topics(door.device) == {"sim/front_door/set"}
        assert [r.source for r in hub.registry.refusals.values()] == [EVIL_TOPIC]
        publish(mosquitto, [(EVIL_TOPIC, b"")])  # the attacker withdraws: the real lock stays
        await hub.settle(quiet_s=0.3)
        assert "ha:front_door" in hub.registry.records and not hub.registry.refusals
        await hub.stop()

    asyncio.run(after_restart())
    assert device_refusals(settings).status == "ok"
