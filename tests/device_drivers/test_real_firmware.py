"""Real device definitions against fake firmware that behaves like the real one, on real Mosquitto:
each is discovered, read, commanded and confirmed by the echo of what it reached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.devices import DeviceHub, InvalidDeviceCommand
from edge_runtime.devices.confirm import matches
from tests.device_drivers.firmware import ESPHome, Firmware, Tasmota, Zigbee2MQTTBridge
from tests.device_drivers.real_devices import (
    CASES,
    ESPHOME_CONFIGS,
    ESPHOME_STATES,
    GARAGE_STATES,
    TASMOTA_FIRMWARE,
    Z2M_DEVICES,
    Z2M_STATES,
    Case,
)


def firmware(port: int) -> list[Firmware]:
    living = {t: c for t, c in ESPHOME_CONFIGS.items() if "/living-room/" in t}
    garage = {t: c for t, c in ESPHOME_CONFIGS.items() if "/garage-door/" in t}
    return [
        Zigbee2MQTTBridge(port, Z2M_DEVICES, {k: dict(v) for k, v in Z2M_STATES.items()}),
        *(Tasmota(port, topic, configs, dict(state)) for topic, (configs, state) in TASMOTA_FIRMWARE.items()),
        ESPHome(port, "living-room", living, dict(ESPHOME_STATES)),
        ESPHome(port, "garage-door", garage, dict(GARAGE_STATES)),
    ]


@pytest.fixture
def home(mosquitto: Mosquitto) -> Iterator[list[Firmware]]:
    running = [f.start() for f in firmware(mosquitto.port)]
    yield running
    for f in running:
        f.stop()


async def hub_for(mosquitto: Mosquitto, db: Path, fw: list[Firmware]) -> DeviceHub:
    hub = DeviceHub(mosquitto.url, db, command_timeout_s=3.0)
    await hub.start()
    await hub.settle(quiet_s=0.4)
    for f in fw:
        f.send(f.report())  # Tasmota's teleperiod, retained states already there
    await asyncio.sleep(0.5)
    return hub


def _agrees(hub: DeviceHub, case: Case, expected: dict[str, Any]) -> None:
    rec = hub.registry.resolve(case.ref)
    for name, want in expected.items():
        attr = rec.device.attributes[name]
        assert matches(attr, want, rec.state.get(name)), (case.ref, name, want, rec.state)


async def _settled(hub: DeviceHub, case: Case) -> None:
    for _ in range(20):
        try:
            _agrees(hub, case, case.after)
            return
        except AssertionError:
            await asyncio.sleep(0.05)
    _agrees(hub, case, case.after)


def test_at_least_fifteen_real_devices_are_commanded() -> None:
    assert len([c for c in CASES if c.command]) >= 15


def test_each_real_device_is_discovered_read_commanded_and_confirmed(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    async def scenario() -> None:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            problems = {r.name: r.problem for r in hub.registry.records.values() if r.problem}
            assert not problems, problems
            for case in CASES:
                rec = hub.registry.resolve(case.ref)  # discovered, under the name people use
                assert rec.device.kind is case.kind, (case.ref, rec.device.kind)
                assert rec.available is True, case.ref
                _agrees(hub, case, case.read)  # read
                if case.command:
                    await hub.set(case.ref, case.command)  # commanded: returns only on the echo
                    _agrees(hub, case, case.command)  # confirmed: what it reached
                    await _settled(hub, case)  # and what it reports next (a cover's position after "open")
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_zigbee_devices_are_devices_not_a_heap_of_entities(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    async def scenario() -> None:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            contact = hub.registry.resolve("Front Door Contact")
            assert (contact.device.device_class, contact.device.group_name) == ("door", "Front Door Contact")
            shown = {r.name for r in hub.registry.listing(hidden=False)}
            assert "Front Door Contact" in shown and "Front Door Contact contact" not in shown
            assert not {n for n in shown if n.endswith(("battery", "linkquality", "power outage count", "Signal"))}
            battery = hub.registry.resolve("Front Door Contact battery")  # hidden, still readable
            assert battery.hidden and battery.state["value"] == 91 and battery.device.attributes["value"].unit == "%"
            same = [r for r in hub.registry.records.values() if r.device.group == contact.device.group]
            assert len(same) == 6  # contact, battery, voltage, temperature, outages, link quality: one device
            # The bridge goes offline: every device behind it, battery sensors too, is unavailable.
            bridge = home[0]
            bridge.send([("zigbee2mqtt/bridge/state", {"state": "offline"}, True)])
            await asyncio.sleep(0.4)
            z2m = [r for r in hub.registry.records.values() if r.id.startswith("z2m:")]
            assert z2m and all(r.available is False for r in z2m), [(r.name, r.available) for r in z2m]
            assert hub.registry.resolve("Sofa Lamp").available is True  # Tasmota is not behind it
            bridge.send([("zigbee2mqtt/bridge/state", {"state": "online"}, True)])
            await asyncio.sleep(0.4)
            assert hub.registry.resolve("Bedroom Climate Temperature").available is True
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_ikea_colour_bulb_reports_xy_and_refuses_6500_k_with_its_limit(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    async def scenario() -> None:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            bulb = hub.registry.resolve("Kitchen Light")
            ct = bulb.device.attributes["color_temp"]
            assert (ct.min, ct.max) == (2203, 4000)  # 454 and 250 mireds, as its expose advertises
            await hub.set("Kitchen Light", {"rgb": [255, 0, 0]})
            sent = [p for t, p in home[0].received if t.endswith("Kitchen Light/set")]
            assert b'"x"' in sent[-1]  # Zigbee speaks xy
            assert bulb.state["color_mode"] == "xy" and bulb.state["rgb"][0] == 255
            with pytest.raises(InvalidDeviceCommand) as err:
                await hub.set("Kitchen Light", {"color_temp": 6500})
            assert err.value.code == "DEVICE_OUT_OF_RANGE" and "4000" in err.value.message
            started = time.monotonic()
            await hub.set("Kitchen Light", {"color_temp": 2200})  # within one step of its warmest: taken as 2203
            assert time.monotonic() - started < 2 and bulb.state["color_mode"] == "color_temp"
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_tasmota_light_on_dim_colour_and_colour_temperature_are_confirmed(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    async def scenario() -> None:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            lamp = hub.registry.resolve("Sofa Lamp")
            assert (lamp.device.attributes["color_temp"].min, lamp.device.attributes["color_temp"].max) == (2000, 6535)
            await hub.set("Sofa Lamp", {"on": True})
            await hub.set("Sofa Lamp", {"brightness": 40})
            await hub.set("Sofa Lamp", {"rgb": [255, 0, 0]})  # Tasmota reports it scaled by the dimmer: 102,0,0
            assert lamp.state["rgb"] == [102, 0, 0]
            await hub.set("Sofa Lamp", {"color_temp": 2700})
            assert lamp.state == {**lamp.state, "on": True, "brightness": 40}
            assert lamp.problem is None
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_make_the_kitchen_light_red_then_6500_k_is_answered_with_its_limit(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    from edge_runtime.brain.device_skill import DeviceSkill

    async def scenario() -> list[Any]:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            skill = DeviceSkill(hub)
            said = []
            for text in ("make the kitchen light red", "set the kitchen light color temperature to 6500 K"):
                result = await skill.handle(text)
                assert result is not None, text
                said.append(result)
            return [*said, dict(hub.registry.resolve("Kitchen Light").state)]
        finally:
            await hub.stop()

    red, too_cold, state = asyncio.run(scenario())
    assert red.reply == "Set the Kitchen Light." or "Kitchen Light" in red.reply, red.reply
    assert [a["confirmed"] for a in red.data["actions"]] == [True], red.data
    assert state["color_mode"] == "xy" and state["rgb"][0] == 255 and state["rgb"][1] < 60
    assert too_cold.reply == "The Kitchen Light goes up to 4000 K.", too_cold.reply
    assert "did not respond" not in too_cold.reply
    sent = [p for t, p in home[0].received if t.endswith("/set")]
    assert len(sent) == 1  # 6500 K was never sent


def test_the_hub_publishes_nothing_retained_on_any_topic_it_does_not_own(
    mosquitto: Mosquitto, home: list[Firmware], tmp_path: Path
) -> None:
    """A spy on `#` with retain-as-published sees every message with the flag its sender gave it: the hub's
    commands are never retained, and every retained message came from the firmware that owns its topic."""
    seen: list[tuple[str, bool]] = []
    spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="spy", protocol=mqtt.MQTTv5)
    spy.on_message = lambda client, userdata, msg: seen.append((msg.topic, bool(msg.retain)))
    spy.connect("127.0.0.1", mosquitto.port)
    spy.subscribe("#", options=mqtt.SubscribeOptions(qos=1, retainAsPublished=True, noLocal=True))
    spy.loop_start()
    time.sleep(0.3)
    seen.clear()  # the retained backlog (sent to a new subscriber with retain set) goes by

    async def scenario() -> None:
        hub = await hub_for(mosquitto, tmp_path / "d.sqlite3", home)
        try:
            for case in CASES:
                if case.command:
                    await hub.set(case.ref, case.command)
        finally:
            await hub.stop()

    asyncio.run(scenario())
    time.sleep(0.2)
    spy.loop_stop()
    owned = set().union(*(f.published for f in home))
    commands = [(t, r) for t, r in seen if t.endswith(("/set", "/command")) or t.startswith("cmnd/")]
    assert len(commands) >= 15 and not [t for t, r in commands if r], commands
    assert not [t for t, r in seen if r and t not in owned], seen
    assert not [t for t, _ in seen if t == "homeassistant/status"]
