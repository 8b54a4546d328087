"""The hub's device layer against real Mosquitto and the simulator: discover, command, confirm."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from device_drivers import Kind
from device_drivers.model import HA_ONLY_KINDS, STATELESS_KINDS
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, VirtualDevice, device_from
from edge_runtime.devices import (
    BrokerUnavailable,
    DeviceEvent,
    DeviceHub,
    DeviceUnavailable,
    DeviceUnconfirmed,
    DeviceUnknown,
    InvalidDeviceCommand,
)
from edge_runtime.devices.confirm import matches

COMMANDS: dict[Kind, dict[str, Any]] = {
    Kind.LIGHT: {"on": True, "brightness": 40, "color_temp": 2700, "rgb": [10, 200, 30]},
    Kind.SWITCH: {"on": True},
    Kind.FAN: {"on": True, "percentage": 75},
    Kind.COVER: {"state": "open"},
    Kind.LOCK: {"locked": False},
    Kind.CLIMATE: {"mode": "cool", "target_temperature": 22.5},
    Kind.VALVE: {"state": "close"},
    Kind.VACUUM: {"state": "start"},
    Kind.SCENE: {"press": True},
    Kind.BUTTON: {"press": True},
    Kind.SELECT: {"option": "boost"},
}
NATIVE_ID = {"ha": "{conv}_{kind}", "z2m": "0x00158d00000000{n:02x}", "homie": "{conv}-{kind}"}


def every_kind(convention: str, **extra: Any) -> list[VirtualDevice]:
    return [
        device_from(
            {
                "id": NATIVE_ID[convention].format(conv=convention, kind=k.value, n=n),
                "name": f"{convention} {k.value.replace('_', ' ')}",
                "kind": k.value,
                "convention": convention,
                **extra,
            }
        )
        for n, k in enumerate(Kind)
        if convention == "ha" or k not in HA_ONLY_KINDS
    ]


def run(coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(coro_fn())


async def started_hub(broker: Mosquitto, db: Path, **kw: Any) -> DeviceHub:
    hub = DeviceHub(broker.url, db, **kw)
    await hub.start()
    await hub.settle(quiet_s=0.3)
    return hub


@pytest.mark.parametrize("convention", ["ha", "z2m", "homie"])
def test_every_kind_discover_command_confirm(mosquitto: Mosquitto, tmp_path: Path, convention: str) -> None:
    devices = every_kind(convention)
    extra = (
        [
            device_from({"id": "jlamp", "name": "json lamp", "kind": "light", "convention": "ha", "schema": "json"}),
            device_from(
                {
                    "id": "dthermo",
                    "name": "device thermostat",
                    "kind": "climate",
                    "convention": "ha",
                    "discovery": "device",
                }
            ),
        ]
        if convention == "ha"
        else []
    )

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices + extra) as sim:
            hub = await started_hub(mosquitto, tmp_path / "devices.sqlite3")
            try:
                records = hub.registry.listing()
                assert {r.device.kind for r in records} == {d.kind for d in devices}
                for _ in range(50):  # settle() is a quiet spell, not a promise: the last retained availability may lag
                    if all(r.available for r in records):
                        break
                    await asyncio.sleep(0.1)
                assert all(r.available for r in records), [(r.name, r.available) for r in records]
                for rec in records:
                    want = {k: v for k, v in COMMANDS.get(rec.device.kind, {}).items() if k in rec.device.attributes}
                    if not want:
                        with pytest.raises(InvalidDeviceCommand):  # sensors are read-only
                            await hub.set(rec.id, {next(iter(rec.device.attributes)): 1})
                        continue
                    confirmed = await hub.set(rec.name, want, timeout_s=2.0)
                    attrs = rec.device.attributes
                    if rec.device.kind in STATELESS_KINDS:  # confirmed by the broker's acknowledgement
                        assert confirmed.state == {}, rec.name
                        continue
                    assert all(matches(attrs[k], v, confirmed.state[k]) for k, v in want.items()), rec.name
                # The devices really changed: the simulator's own state agrees.
                for vdev in sim.devices.values():
                    want = COMMANDS.get(vdev.kind, {})
                    if "on" in want:
                        assert vdev.state["on"] is True, vdev.name
                    if vdev.kind is Kind.LOCK:
                        assert vdev.state["locked"] is False
                    if vdev.kind is Kind.COVER:
                        assert vdev.state["state"] == "open" and vdev.state["position"] == 100
                    if vdev.kind is Kind.VALVE:  # it reported closing, then closed
                        assert vdev.state["state"] == "closed"
                    if vdev.kind is Kind.VACUUM:
                        assert vdev.state["state"] == "cleaning"
                    if vdev.kind is Kind.SELECT:  # the option's own spelling went out
                        assert vdev.state["option"] == "Boost"
                    if vdev.kind in (Kind.SCENE, Kind.BUTTON):  # no state: the press was received, once
                        assert vdev.received == [{"press": True}], vdev.name
            finally:
                await hub.stop()

    run(scenario)


@pytest.mark.parametrize("convention", ["z2m", "homie"])
def test_each_state_message_is_applied_once_across_both_connections(
    mosquitto: Mosquitto, tmp_path: Path, convention: str
) -> None:
    """Commandable devices report on the control connection; the bulk one's wildcards cover
    their topics too, and must not deliver them a second time."""
    devices = [
        device_from({"id": f"{convention}plug", "name": "Plug", "kind": "switch", "convention": convention}),
        device_from({"id": f"{convention}temp", "name": "Temp", "kind": "sensor", "convention": convention}),
    ]

    async def scenario() -> list[DeviceEvent]:
        with Simulator(mosquitto.url, devices) as sim:
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            events = hub.events()
            await hub.set("Plug", {"on": True}, timeout_s=2)
            sensor = next(v for v in sim.devices.values() if v.kind is Kind.SENSOR)
            sensor.state["value"] = 21.5
            sim.node_of(sensor.id).publish_state(sensor)
            await asyncio.sleep(0.5)
            await hub.stop()
            seen = []
            while not events.empty():
                seen.append(events.get_nowait())
            return seen

    seen = [e for e in run(scenario) if e.type == "state"]
    plug = [e for e in seen if e.data["values"].get("on") is True]
    temp = [e for e in seen if e.data["values"].get("value") == 21.5]
    assert len(plug) == 1 and len(temp) == 1, seen


def test_registry_survives_a_restart_with_user_edits(mosquitto: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "devices.sqlite3"
    devices = [
        device_from({"id": "lamp1", "name": "Lamp", "kind": "light", "convention": "ha", "area": "Den"}),
        device_from({"id": "0x0a", "name": "Plug", "kind": "switch", "convention": "z2m"}),
    ]

    async def first() -> None:
        with Simulator(mosquitto.url, devices) as sim:
            hub = await started_hub(mosquitto, db)
            assert hub.registry.resolve("Lamp").area == "Den"  # the device's own suggested area
            hub.registry.edit("Lamp", name="Reading Lamp", aliases=["the lamp", "big light"], area="Study")
            hub.registry.set_floor("Study", "upstairs")
            await hub.set("big light", {"on": True, "brightness": 70})
            sim.drop("0x0a")  # the bridge loses power: its last will marks the plug offline
            deadline = time.monotonic() + 3
            while hub.registry.resolve("Plug").available is not False and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await hub.stop()

    async def second() -> None:
        hub = DeviceHub(mosquitto.url, db)  # no simulator now: nothing is announced
        records = {r.id: r for r in hub.registry.listing()}
        assert set(records) == {"ha:lamp1", "z2m:0x0a"}
        lamp = hub.registry.resolve("the lamp")
        assert (lamp.name, lamp.area, lamp.floor) == ("Reading Lamp", "Study", "upstairs")
        assert lamp.state["brightness"] == 70 and lamp.state["on"] is True
        assert records["z2m:0x0a"].available is False
        await hub.start()
        with pytest.raises(DeviceUnavailable) as exc:
            await hub.set("Plug", {"on": True})
        assert exc.value.code == "DEVICE_OFFLINE"
        await hub.stop()

    run(first)
    run(second)


def test_rediscovery_keeps_the_users_names(mosquitto: Mosquitto, tmp_path: Path) -> None:
    devices = [device_from({"id": "fan1", "name": "Fan", "kind": "fan", "convention": "homie"})]

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices) as sim:
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            hub.registry.edit("Fan", name="Ceiling Fan", area="Bedroom")
            sim.nodes[0].online()  # the device announces itself again
            await asyncio.sleep(0.3)
            rec = hub.registry.resolve("Ceiling Fan")
            assert rec.area == "Bedroom" and rec.device.name == "Fan"
            with pytest.raises(DeviceUnknown) as exc:
                hub.registry.resolve("Cieling Fan")
            assert "Ceiling Fan" in (exc.value.hint or "")
            await hub.stop()

    run(scenario)


def test_no_echo_fails_clearly_and_latency_is_waited_for(mosquitto: Mosquitto, tmp_path: Path) -> None:
    devices = [
        device_from({"id": "deaf", "name": "Deaf Plug", "kind": "switch", "convention": "ha", "drop_rate": 1}),
        device_from({"id": "slow", "name": "Slow Plug", "kind": "switch", "convention": "ha", "latency_ms": 300}),
    ]

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices):
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            started = time.monotonic()
            with pytest.raises(DeviceUnconfirmed) as exc:
                await hub.set("Deaf Plug", {"on": True}, timeout_s=0.5)
            assert exc.value.code == "DEVICE_UNCONFIRMED" and 0.5 <= time.monotonic() - started < 1.0
            started = time.monotonic()
            await hub.set("Slow Plug", {"on": True}, timeout_s=2)
            assert time.monotonic() - started >= 0.3
            await hub.stop()

    run(scenario)


def test_broker_restart_loses_and_duplicates_no_command(tmp_path: Path) -> None:
    """Commands run back to back while the broker restarts twice: each arrives exactly once."""
    broker = Mosquitto(tmp_path / "broker").start()
    devices = [
        device_from({"id": "dimmer", "name": "Dimmer", "kind": "light", "convention": "ha"}),
        device_from({"id": "0x0b", "name": "Bulb", "kind": "light", "convention": "z2m"}),
    ]
    try:
        with Simulator(broker.url, devices) as sim:

            async def scenario() -> list[int]:
                hub = await started_hub(broker, tmp_path / "d.sqlite3")
                restarts = []

                def restart_later(delay: float) -> None:
                    time.sleep(delay)
                    broker.restart(down_s=0.3)
                    restarts.append(time.monotonic())

                threads = [threading.Thread(target=restart_later, args=(d,)) for d in (0.4, 2.0)]
                for t in threads:
                    t.start()
                sent = []
                for value in range(1, 61):
                    await hub.set("Dimmer" if value % 2 else "Bulb", {"brightness": value}, timeout_s=10)
                    sent.append(value)
                    await asyncio.sleep(0.03)
                for t in threads:
                    t.join()
                assert len(restarts) == 2 and hub.link.connects >= 3
                await asyncio.sleep(0.5)
                assert hub.last_discovery > restarts[-1] - 0.5  # discovery was read again after the restart
                await hub.stop()
                return sent

            sent = asyncio.run(scenario())
            received = [c["brightness"] for d in sim.devices.values() for c in d.received if "brightness" in c]
            assert sorted(received) == sent  # every command once: none lost, none twice
    finally:
        broker.stop()


def test_a_command_while_disconnected_waits_for_the_reconnect(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker").start()
    devices = [device_from({"id": "plug", "name": "Plug", "kind": "switch", "convention": "ha"})]
    try:
        with Simulator(broker.url, devices):

            async def scenario() -> None:
                hub = await started_hub(broker, tmp_path / "d.sqlite3")
                broker.stop()
                await asyncio.sleep(0.2)
                with pytest.raises(BrokerUnavailable) as exc:  # no broker within the timeout: a clear no
                    await hub.set("Plug", {"on": True}, timeout_s=0.5)
                assert exc.value.code == "MQTT_DISCONNECTED"
                threading.Timer(0.5, broker.start).start()
                await hub.set("Plug", {"on": True}, timeout_s=8)  # sent after the reconnect, confirmed
                assert hub.registry.resolve("Plug").state["on"] is True
                await hub.stop()

            asyncio.run(scenario())
    finally:
        broker.stop()


def _publisher(url_port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    client.connect("127.0.0.1", url_port)
    client.loop_start()
    return client


def test_bad_payloads_are_logged_and_ignored(mosquitto: Mosquitto, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    devices = [
        device_from({"id": "lamp", "name": "Lamp", "kind": "light", "convention": "ha", "schema": "json"}),
        device_from({"id": "0x0c", "name": "Plug", "kind": "switch", "convention": "z2m"}),
    ]

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices):
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            pub = _publisher(mosquitto.port)
            bad = [
                ("homeassistant/light/broken/config", b"{not json"),
                ("homeassistant/switch/weird/config", b"[1,2,3]"),
                ("homeassistant/device/dev1/config", b'{"dev": {"ids": "x"}}'),  # no cmps
                ("zigbee2mqtt/bridge/devices", b'{"not": "a list"}'),
                ("homie/5/thing/$description", b"\xff\xfe garbage"),
                ("sim/lamp/state", b'{"state": "MAYBE"}'),
                ("sim/lamp/state", b"\x00" * 100_000),
                ("zigbee2mqtt/Plug", b'{"state": 42}'),
                ("zigbee2mqtt/Plug/availability", b"sideways"),
            ]
            for topic, payload in bad:
                pub.publish(topic, payload, qos=1).wait_for_publish()
            await asyncio.sleep(0.5)
            assert hub.bad_payloads >= 6
            logged = [r for r in caplog.records if r.msg == "device.bad_payload"]
            assert {getattr(r, "topic", None) for r in logged} >= {
                "homeassistant/light/broken/config",
                "sim/lamp/state",
            }
            assert all(getattr(r, "code", None) == "DEVICE_BAD_PAYLOAD" for r in logged)
            # Nothing was lost or corrupted, and control still works.
            assert {r.id for r in hub.registry.listing()} == {"ha:lamp", "z2m:0x0c"}
            await hub.set("Lamp", {"brightness": 20})
            await hub.set("Plug", {"on": True})
            pub.loop_stop()
            await hub.stop()

    run(scenario)


def test_hub_publishes_only_to_known_command_topics(mosquitto: Mosquitto, tmp_path: Path) -> None:
    devices = every_kind("ha") + every_kind("z2m")

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices):
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            published: list[str] = []
            real_publish = hub.link.publish

            def recording(topic: str, payload: bytes, **kw: Any) -> bool:
                published.append(topic)
                return real_publish(topic, payload, **kw)

            hub.link.publish = recording  # type: ignore[method-assign]
            for rec in hub.registry.listing():
                want = {k: v for k, v in COMMANDS.get(rec.device.kind, {}).items() if k in rec.device.attributes}
                if want:
                    await hub.set(rec.id, want)
                await hub.refresh(rec.id)
            allowed = {
                t
                for r in hub.registry.listing()
                for t in hub.by_convention[r.device.convention].command_topics(r.device)
            }
            allowed |= {
                f"zigbee2mqtt/{r.device.wiring['name']}/get" for r in hub.registry.listing() if r.id.startswith("z2m")
            }
            assert published and set(published) <= allowed
            await hub.stop()

    run(scenario)


FLOOD_SCRIPT = """
import json, sys, time
import paho.mqtt.client as m
c = m.Client(m.CallbackAPIVersion.VERSION2)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_start()
p = [json.dumps({"value": n / 10}).encode() for n in range(100)]
sent = 0
while sent < 200_000:  # 1000 messages every 100 ms: 10,000 per second
    t0 = time.monotonic()
    for i in range(1000):
        c.publish(f"sim/s{i % 100}/state", p[i % 100])
    sent += 1000
    print(sent, flush=True)
    time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
"""


def test_flood_of_state_messages_does_not_stall_commands(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sensors = [
        device_from({"id": f"s{n}", "name": f"Sensor {n}", "kind": "sensor", "convention": "ha", "node": "sensors"})
        for n in range(100)
    ]
    plug = device_from({"id": "plug", "name": "Plug", "kind": "switch", "convention": "ha", "node": "plugs"})

    async def scenario() -> dict[str, float]:
        with Simulator(mosquitto.url, [*sensors, plug]):
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            # The flood comes from another process, as a real one does (not this test's GIL).
            flooder = subprocess.Popen(
                [sys.executable, "-c", FLOOD_SCRIPT, str(mosquitto.port)], stdout=subprocess.PIPE, text=True
            )
            sent = [0]

            def count_sent() -> None:
                assert flooder.stdout is not None
                for line in flooder.stdout:
                    sent[0] = int(line)

            threading.Thread(target=count_sent, daemon=True).start()
            while sent[0] < 2000:  # the flood is under way before the first command
                assert flooder.poll() is None, "the flooder died"
                await asyncio.sleep(0.05)
            before, start = hub.link.received, sent[0]
            latencies: list[float] = []
            # On a busy machine the flooder may run slower: command until 10,000 went by it.
            while len(latencies) < 20 or (sent[0] - start < 10_000 and len(latencies) < 400):
                t0 = time.perf_counter()
                await hub.set("Plug", {"on": len(latencies) % 2 == 0}, timeout_s=2)
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)
            flooder.terminate()
            flooder.wait()
            absorbed = hub.link.received - before
            await hub.stop()
            return {"max": max(latencies), "commands": len(latencies), "absorbed": absorbed, "sent": sent[0] - start}

    result = run(scenario)
    assert result["sent"] >= 10_000
    assert result["max"] < 0.25, result  # commands stay fast under the flood
    assert result["absorbed"] > 500, result  # and the state cache kept taking updates


def test_the_hub_publishes_nothing_retained_and_never_home_assistants_birth(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """`homeassistant/status` is Home Assistant's own topic: a hub that publishes it makes every device on a
    shared broker re-announce and says HA is up when it may not be. The hub re-reads retained configs instead,
    and publishes only commands, never retained. A spy sees every message with its retain flag as published."""
    devices = [
        device_from({"id": "lamp", "name": "Lamp", "kind": "light", "convention": "ha"}),
        device_from({"id": "0x0a", "name": "Bulb", "kind": "light", "convention": "z2m"}),
        device_from({"id": "fan", "name": "Fan", "kind": "fan", "convention": "homie"}),
    ]
    before: set[str] = set()
    seen: list[tuple[str, bool]] = []
    live = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        (seen.append((msg.topic, bool(msg.retain))) if live.is_set() else before.add(msg.topic))

    spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="spy", protocol=mqtt.MQTTv5)
    spy.on_message = on_message
    spy.connect("127.0.0.1", mosquitto.port)
    spy.subscribe("#", options=mqtt.SubscribeOptions(qos=1, retainAsPublished=True))
    spy.loop_start()
    with Simulator(mosquitto.url, devices) as sim:
        time.sleep(0.5)  # the simulator's own announcements and the retained backlog go by
        live.set()

        async def scenario() -> None:
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            assert {r.device.name for r in hub.registry.records.values()} >= {"Lamp", "Bulb", "Fan"}
            for name in ("Lamp", "Bulb", "Fan"):
                await hub.set(name, {"on": True})
            await hub.stop()

        run(scenario)
        filters = [f for node in sim.nodes for f in node.command_filters()]
    spy.loop_stop()
    assert not [t for t, _ in seen if t.startswith("homeassistant/status")], seen
    commands = [(t, r) for t, r in seen if any(mqtt.topic_matches_sub(f, t) for f in filters)]
    assert len(commands) >= 3 and not [t for t, r in commands if r], commands  # commands, never retained
    # Anything else went to a topic the devices already published on (their state echoes), not one of the hub's.
    assert {t for t, _ in seen} - {t for t, _ in commands} <= before, seen


@pytest.mark.parametrize("convention", ["ha", "z2m", "homie"])
def test_last_will_marks_the_device_offline(mosquitto: Mosquitto, tmp_path: Path, convention: str) -> None:
    native = {"ha": "lamp", "z2m": "0x0d", "homie": "lamp"}[convention]
    devices = [device_from({"id": native, "name": "Lamp", "kind": "light", "convention": convention})]

    async def scenario() -> None:
        with Simulator(mosquitto.url, devices) as sim:
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3", offline_grace_s=0.0)
            events = hub.events()
            assert hub.registry.resolve("Lamp").available is True
            sim.drop(native)  # power cut: no DISCONNECT, the broker publishes the last will
            event = await asyncio.wait_for(events.get(), 5)
            while event.type != "availability":
                event = await asyncio.wait_for(events.get(), 5)
            assert event.data == {"available": False}
            with pytest.raises(DeviceUnavailable):
                await hub.set("Lamp", {"on": True})
            await hub.stop()

    run(scenario)


def test_a_device_announced_after_its_nodes_availability_still_hears_it(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Tasmota and ESPHome give every entity of a node one availability topic. The broker sends a
    retained message once per subscription, so a second entity announced later must still learn it."""
    node = f"tasmota_{time.monotonic_ns()}"
    avail = f"tele/{node}/LWT"

    def config(obj: str) -> bytes:
        return json.dumps(
            {
                "name": obj,
                "uniq_id": f"{node}_{obj}",
                "cmd_t": f"cmnd/{node}/{obj}",
                "stat_t": f"stat/{node}/{obj}",
                "avty_t": avail,
                "pl_avail": "Online",
                "pl_not_avail": "Offline",
            }
        ).encode()

    async def scenario() -> None:
        pub = _publisher(mosquitto.port)
        try:
            pub.publish(avail, b"Online", qos=1, retain=True).wait_for_publish()
            pub.publish(
                f"homeassistant/switch/{node}_1/config", config("POWER1"), qos=1, retain=True
            ).wait_for_publish()
            hub = await started_hub(mosquitto, tmp_path / "d.sqlite3")
            try:
                assert hub.registry.resolve("POWER1").available is True
                pub.publish(f"homeassistant/switch/{node}_2/config", config("POWER2"), qos=1, retain=True)
                for _ in range(50):
                    if len(hub.registry.listing()) == 2:
                        break
                    await asyncio.sleep(0.05)
                assert hub.registry.resolve("POWER2").available is True  # before: None, for ever
                pub.publish(avail, b"Offline", qos=1, retain=True).wait_for_publish()
                await asyncio.sleep(0.3)
                assert [r.available for r in hub.registry.listing()] == [False, False]
            finally:
                await hub.stop()
        finally:
            for topic in (avail, f"homeassistant/switch/{node}_1/config", f"homeassistant/switch/{node}_2/config"):
                pub.publish(topic, b"", qos=1, retain=True).wait_for_publish()
            pub.loop_stop()

    run(scenario)
