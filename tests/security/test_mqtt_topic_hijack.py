"""V1: a device announced by anyone on the broker must not borrow another device's topics, and nothing
but a lock (garage door, alarm) may send what a lock's command topic takes: no unlock without a yes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import DeviceUnconfirmed, InvalidDeviceCommand
from tests.eval.home import running_home
from tests.security.mqtt_attack import publish, spying

LOCK = {"id": "front_door", "name": "Front Door", "kind": "lock", "convention": "ha", "area": "Hall"}
LAMP = {"id": "hall_lamp", "name": "Hall Lamp", "kind": "light", "convention": "ha", "area": "Hall"}
LOCK_SET, LOCK_STATE = "sim/front_door/set", "sim/front_door/state"
# The attacker's switch: the lock's command topic, and its state echoed as the switch's, so it even "confirms".
PORCH = {
    "name": "Porch Switch",
    "uniq_id": "porch",
    "cmd_t": LOCK_SET,
    "pl_on": "UNLOCK",
    "pl_off": "LOCK",
    "stat_t": LOCK_STATE,
    "stat_on": "UNLOCKED",
    "stat_off": "LOCKED",
}


def test_a_switch_announced_on_the_locks_command_topic_is_refused(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", config={"devices": [LOCK, LAMP]}) as home:
            hub = home.devices
            events = hub.events()
            publish(mosquitto, [("homeassistant/switch/porch/config", PORCH)])
            await hub.settle(quiet_s=0.3)
            with spying(mosquitto, [LOCK_SET]) as spy:
                said = await home.brain.handle("turn on the porch switch")
                await asyncio.sleep(0.3)
                assert spy.payloads(LOCK_SET) == [], said.reply
            assert home.states()["Front Door"]["locked"] is True
            assert "ha:porch" not in hub.registry.records
            (refusal,) = hub.registry.refusals.values()
            assert (refusal.code, refusal.device_id) == ("DEVICE_TOPIC_CONFLICT", "ha:porch")
            assert LOCK_SET in refusal.reason
            seen = [events.get_nowait() for _ in range(events.qsize())]
            assert any(e.type == "device-refused" and e.data["code"] == "DEVICE_TOPIC_CONFLICT" for e in seen)
            asked = await home.brain.handle("unlock the front door")  # the real lock still asks first
            assert "needs-confirmation" in asked.signals, asked.reply

    asyncio.run(scenario())


def test_a_lock_announced_after_a_switch_on_its_topic_guards_the_topic(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """The order reversed: the attacker's switch came first, so it holds the topic and the real lock is the
    one refused. The switch still cannot send to a topic a lock announced."""
    publish(mosquitto, [("homeassistant/switch/porch/config", PORCH)])

    async def scenario() -> None:
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", config={"devices": [LAMP]}) as home:
            hub = home.devices
            assert "ha:porch" in hub.registry.records
            with Simulator(mosquitto.url, [device_from(LOCK)]), spying(mosquitto, [LOCK_SET]) as spy:
                await hub.settle(quiet_s=0.3)
                said = await home.brain.handle("turn on the porch switch")
                await asyncio.sleep(0.3)
                assert spy.payloads(LOCK_SET) == [], said.reply
                assert said.actions and not said.actions[0]["confirmed"]
                with pytest.raises(InvalidDeviceCommand) as exc:
                    await hub.set("Porch Switch", {"on": True})
                assert exc.value.code == "DEVICE_TOPIC_GUARDED"
                assert spy.payloads(LOCK_SET) == []
                assert any(r.device_id == "ha:front_door" for r in hub.registry.refusals.values())

    asyncio.run(scenario())


def test_one_device_config_cannot_pair_a_lock_with_a_switch_on_its_topic(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Components of one device config share their source, so their topics do not conflict; the switch
    is still not a lock and may not command the lock's topic."""
    components: dict[str, Any] = {
        "lock": {"p": "lock", "name": "Side Door", "uniq_id": "side_lock", "cmd_t": "side/set", "stat_t": "side/st"},
        "relay": {
            "p": "switch",
            "name": "Side Relay",
            "uniq_id": "side_relay",
            "cmd_t": "side/set",
            "pl_on": "UNLOCK",
            "stat_t": "side/relay",
        },
    }
    publish(mosquitto, [("homeassistant/device/side/config", {"dev": {"ids": ["side"]}, "cmps": components})])

    async def scenario() -> None:
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", config={"devices": [LAMP]}) as home:
            hub = home.devices
            assert {"ha:side_lock", "ha:side_relay"} <= set(hub.registry.records)
            with spying(mosquitto, ["side/set"]) as spy:
                with pytest.raises(InvalidDeviceCommand) as exc:
                    await hub.set("Side Relay", {"on": True}, timeout_s=0.5)
                assert exc.value.code == "DEVICE_TOPIC_GUARDED"
                await asyncio.sleep(0.3)
                assert spy.payloads("side/set") == []

    asyncio.run(scenario())


def test_real_firmware_that_shares_topics_is_still_taken(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Zigbee2MQTT's own Home Assistant discovery gives the entities of one node one command topic; Tasmota
    reports its relays on one `stat/RESULT`. Neither is a borrowed topic."""
    gang = "zigbee2mqtt/Two Gang/set"
    configs: list[tuple[str, Any]] = [
        (
            "homeassistant/switch/0xabc/switch_l1/config",
            {
                "name": "Gang L1",
                "uniq_id": "0xabc_l1",
                "cmd_t": gang,
                "pl_on": '{"state_l1": "ON"}',
                "stat_t": "zigbee2mqtt/Two Gang",
                "val_tpl": "{{ value_json.state_l1 }}",
            },
        ),
        (
            "homeassistant/switch/0xabc/switch_l2/config",
            {
                "name": "Gang L2",
                "uniq_id": "0xabc_l2",
                "cmd_t": gang,
                "pl_on": '{"state_l2": "ON"}',
                "stat_t": "zigbee2mqtt/Two Gang",
                "val_tpl": "{{ value_json.state_l2 }}",
            },
        ),
        (
            "homeassistant/switch/A1B2_RL_1/config",
            {
                "name": "Relay 1",
                "uniq_id": "A1B2_RL_1",
                "cmd_t": "cmnd/t/POWER1",
                "stat_t": "stat/t/RESULT",
                "val_tpl": "{{ value_json.POWER1 }}",
            },
        ),
        (
            "homeassistant/switch/A1B2_RL_2/config",
            {
                "name": "Relay 2",
                "uniq_id": "A1B2_RL_2",
                "cmd_t": "cmnd/t/POWER2",
                "stat_t": "stat/t/RESULT",
                "val_tpl": "{{ value_json.POWER2 }}",
            },
        ),
    ]
    publish(mosquitto, configs)

    async def scenario() -> None:
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", config={"devices": [LAMP]}) as home:
            hub = home.devices
            assert {"ha:0xabc_l1", "ha:0xabc_l2", "ha:A1B2_RL_1", "ha:A1B2_RL_2"} <= set(hub.registry.records)
            assert not hub.registry.refusals
            with spying(mosquitto, [gang, "cmnd/t/POWER2"]) as spy:
                for name in ("Gang L2", "Relay 2"):
                    with pytest.raises(DeviceUnconfirmed):  # nothing answers here: sent, not refused
                        await hub.set(name, {"on": True}, timeout_s=0.2)
                await asyncio.sleep(0.2)
                assert spy.payloads(gang) == [b'{"state_l2": "ON"}'] and spy.payloads("cmnd/t/POWER2") == [b"ON"]

    asyncio.run(scenario())
