"""V4 and discovery: no wildcard topic from a device reaches a subscription, a withdrawn config removes the
device its topic announced and unsubscribes its topics, a burst of retained configs all arrive, and what is
dropped anyway is counted and reported."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.devices import DeviceHub
from edge_runtime.devices import link as link_module
from tests.security.mqtt_attack import publish

BAD_TOPICS = {
    "hash": {"cmd_t": "ok/set", "stat_t": "#"},
    "plus": {"cmd_t": "ok2/set", "stat_t": "a/+/state"},
    "cmdhash": {"cmd_t": "#", "stat_t": "ok3/state"},
    "sys": {"cmd_t": "$SYS/x", "stat_t": "ok4/state"},
    "empty": {"cmd_t": "", "stat_t": "ok5/state"},
    "avail": {"cmd_t": "ok6/set", "avty_t": "+/status"},
    "config": {"cmd_t": "homeassistant/lock/front/config", "stat_t": "ok7/state"},
    "bridge": {"cmd_t": "zigbee2mqtt/bridge/request/permit_join", "pl_on": '{"value": true}'},
}


async def _hub(broker: Mosquitto, db: Path) -> DeviceHub:
    hub = await DeviceHub(broker.url, db).start()
    await hub.settle(quiet_s=0.3)
    return hub


def _subscribed(hub: DeviceHub) -> set[str]:
    return hub.link._control.filters | hub.link._bulk.filters


def test_wildcard_and_reserved_topics_are_refused(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = await _hub(mosquitto, tmp_path / "d.sqlite3")
        before = set(_subscribed(hub))
        publish(
            mosquitto, [(f"homeassistant/switch/{name}/config", {"name": name, **c}) for name, c in BAD_TOPICS.items()]
        )
        await hub.settle(quiet_s=0.3)
        flood = [(f"noise/{n}/x", b"1") for n in range(300)]
        received = hub.link.raw
        publish(mosquitto, flood, retain=False)
        await asyncio.sleep(0.3)
        assert hub.link.raw - received < 10  # nobody's messages but the devices'
        assert _subscribed(hub) == before, _subscribed(hub) - before
        assert not hub.registry.records
        refused = {r.device_id: r.code for r in hub.registry.refusals.values()}
        assert refused == {f"ha:{name}": "DEVICE_BAD_TOPIC" for name in BAD_TOPICS}
        await hub.stop()

    asyncio.run(scenario())


def test_an_empty_config_removes_what_its_topic_announced_and_unsubscribes(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """The unique_id differs from the object id, as with most real firmware."""
    topic = "homeassistant/switch/plug/config"
    config = {"name": "Kitchen Plug", "uniq_id": "kitchen_plug_01", "cmd_t": "plug/set", "stat_t": "plug/state"}
    sensor = {"name": "Hall Temperature", "uniq_id": "hall_t_01", "stat_t": "hall/t"}

    async def scenario() -> None:
        hub = await _hub(mosquitto, tmp_path / "d.sqlite3")
        before = set(_subscribed(hub))
        publish(mosquitto, [(topic, config), ("homeassistant/sensor/t/config", sensor)])
        await hub.settle(quiet_s=0.3)
        assert {"ha:kitchen_plug_01", "ha:hall_t_01"} <= set(hub.registry.records)
        assert {"plug/state", "hall/t"} <= _subscribed(hub)
        publish(mosquitto, [(topic, b""), ("homeassistant/sensor/t/config", b"")])
        await hub.settle(quiet_s=0.3)
        assert not hub.registry.records
        assert _subscribed(hub) == before
        received = hub.link.raw
        publish(mosquitto, [("plug/state", b"ON"), ("hall/t", b"21")], retain=False)
        await asyncio.sleep(0.3)
        assert hub.link.raw == received  # the broker no longer sends them
        await hub.stop()
        second = await _hub(mosquitto, tmp_path / "d.sqlite3")  # and it stays removed
        assert not second.registry.records
        await second.stop()

    asyncio.run(scenario())


def test_a_burst_of_retained_configs_all_arrive_on_a_stock_broker(tmp_path: Path) -> None:
    """A stock Mosquitto queues 1000 QoS-1 messages per client and drops the rest of a burst, silently."""
    broker = Mosquitto(tmp_path / "broker", stock_limits=True).start()
    count = 10_000
    try:
        configs = [
            (
                f"homeassistant/switch/p{n}/config",
                {
                    "name": f"Plug {n}",
                    "uniq_id": f"plug_{n:05d}",
                    "cmd_t": f"farm/{n}/set",
                    "stat_t": f"farm/{n}/state",
                },
            )
            for n in range(count)
        ]
        publish(broker, configs)

        async def scenario() -> None:
            hub = await DeviceHub(broker.url, tmp_path / "d.sqlite3").start()
            await hub.settle(quiet_s=1.0, max_s=60)
            assert len(hub.registry.records) == count
            assert hub.link.dropped == 0
            await hub.stop()

        asyncio.run(scenario())
    finally:
        broker.stop()


def test_what_is_dropped_is_counted_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Never silent: messages the hub had no room for, and messages the broker dropped (for any client, as its
    `$SYS` count says), are each counted and reported with a code."""
    monkeypatch.setattr(link_module, "MAX_BACKLOG", 50)
    broker = Mosquitto(tmp_path / "broker", stock_limits=True, extra=("sys_interval 1",)).start()
    try:

        async def scenario() -> None:
            hub = await _hub(broker, tmp_path / "d.sqlite3")
            publish(broker, [(f"zigbee2mqtt/sensor{n}", b"{}") for n in range(300)], retain=False)
            time.sleep(0.5)  # the loop is busy: what arrives meanwhile waits in the backlog, which is full at 50
            await asyncio.sleep(0.2)
            assert hub.link.dropped >= 200, hub.link.dropped
            publish(broker, [(f"farm/{n}", b"x") for n in range(3000)])
            slow = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="slow-logger")
            slow.connect("127.0.0.1", broker.port)
            slow.subscribe("farm/#", qos=1)  # 3000 retained at once: the broker keeps 1020 for it
            slow.loop_start()
            deadline = time.monotonic() + 5
            while not hub.link.broker_dropped and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            slow.loop_stop()
            assert hub.link.broker_dropped >= 1000, hub.link.broker_dropped
            await hub.stop()

        asyncio.run(scenario())
    finally:
        broker.stop()
    codes = {getattr(r, "code", None) for r in caplog.records if r.msg in ("mqtt.dropped", "mqtt.broker_dropped")}
    assert codes == {"MQTT_BACKLOG_FULL", "MQTT_BROKER_DROPPED"}
