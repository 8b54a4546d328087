"""V3: a topic the broker refuses (NUL, a wildcard, a leading `$`, too long) never reaches it, and a message
that made the broker drop the hub's connection anyway is never sent again: no reconnect loop."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from device_drivers import DriverError
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import DeviceError, DeviceHub, DeviceUnknown
from tests.security.mqtt_attack import publish

PLUG = {"id": "plug", "name": "Plug", "kind": "switch", "convention": "ha"}


async def _hub(broker: Mosquitto, db: Path) -> DeviceHub:
    hub = await DeviceHub(broker.url, db).start()
    await hub.settle(quiet_s=0.3)
    return hub


def test_a_nul_in_a_command_topic_never_reaches_the_broker(mosquitto: Mosquitto, tmp_path: Path) -> None:
    nul = {"name": "Nul Plug", "uniq_id": "nul", "cmd_t": "evil/\u0000/set", "stat_t": "evil/nul"}

    async def scenario() -> None:
        with Simulator(mosquitto.url, [device_from(PLUG)]):
            hub = await _hub(mosquitto, tmp_path / "d.sqlite3")
            publish(mosquitto, [("homeassistant/switch/nul/config", nul)])
            await hub.settle(quiet_s=0.3)
            with pytest.raises(DeviceError):
                await hub.set("Nul Plug", {"on": True}, timeout_s=1)
            await asyncio.sleep(1.0)
            assert hub.link._control.connects == 1  # the control connection was never dropped
            with pytest.raises(DeviceUnknown):
                hub.registry.resolve("Nul Plug")
            (refusal,) = hub.registry.refusals.values()
            assert (refusal.code, refusal.device_id) == ("DEVICE_BAD_TOPIC", "ha:nul")
            for topic in ("evil/\x00/set", "a/+/b", "#", "$SYS/x", "", "a\x01b", "x" * 65_536, "a\ud800b"):
                with pytest.raises(DriverError) as exc:
                    hub.link.publish(topic, b"ON")
                assert exc.value.code == "DEVICE_BAD_TOPIC", repr(topic)
            await hub.set("Plug", {"on": True})  # control still works
            assert hub.link._control.connects == 1
            await hub.stop()

    asyncio.run(scenario())


def test_a_message_that_dropped_the_connection_is_never_sent_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A valid topic the broker still refuses (here: a packet over its `max_packet_size`). The command after
    it in the same burst was never read by the broker: it is sent again after the reconnect, and confirmed."""
    broker = Mosquitto(tmp_path / "broker").start()
    long_topic = "long/" + "x" * 3000
    config = {"name": "Long Plug", "uniq_id": "long", "cmd_t": long_topic, "stat_t": "long/state"}
    try:
        publish(broker, [("homeassistant/switch/long/config", config)])
        with broker.conf.open("a") as conf:  # the broker's limit is lowered once the device has announced
            conf.write("max_packet_size 2048\n")
        broker.restart()
        with Simulator(broker.url, [device_from(PLUG)]) as sim:

            async def scenario() -> None:
                hub = await _hub(broker, tmp_path / "d.sqlite3")
                poisoned, innocent = await asyncio.gather(
                    hub.set("Long Plug", {"on": True}, timeout_s=3),
                    hub.set("Plug", {"on": True}, timeout_s=3),
                    return_exceptions=True,
                )
                assert isinstance(poisoned, DeviceError) and poisoned.code == "MQTT_MESSAGE_REFUSED", poisoned
                assert not isinstance(innocent, BaseException), innocent
                await asyncio.sleep(1.5)
                assert hub.link._control.connects == 2  # dropped once, never again
                with pytest.raises(DeviceError) as again:  # asked again: refused here, not sent
                    await hub.set("Long Plug", {"on": False}, timeout_s=1)
                assert again.value.code == "MQTT_MESSAGE_REFUSED"
                await hub.set("Plug", {"on": False})
                assert hub.link._control.connects == 2 and hub.link.refused_messages == 1
                await hub.stop()

            asyncio.run(scenario())
            plug = next(iter(sim.devices.values()))
            assert [c["on"] for c in plug.received] == [True, False]  # the innocent command once, not twice
    finally:
        broker.stop()
    warned = [r for r in caplog.records if r.msg == "mqtt.message_refused"]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert getattr(warned[0], "code", None) == "MQTT_MESSAGE_REFUSED"
