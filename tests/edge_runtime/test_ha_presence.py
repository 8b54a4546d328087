"""The hub as an MQTT device in Home Assistant, on a real broker, seen by a subscriber that parses
discovery as Home Assistant does (tests/edge_runtime/ha_subscriber.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from device_drivers.mosquitto import Mosquitto
from device_drivers.mqtt_url import BrokerAddress
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import DeviceHub
from edge_runtime.ha_presence import Controls, HaPresence, HubDevice, node_id
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Tracer
from tests.edge_runtime.ha_subscriber import HaSubscriber

HUB_ID = "hub-0123456789abcdef"
WAKE_WORDS = ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy")


def presence(broker: Mosquitto, tmp_path: Path) -> tuple[HaPresence, Controls]:
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", _env_file=None)  # type: ignore[call-arg]
    controls = Controls(settings, None, None)
    device = HubDevice(HUB_ID, "Kitchen hub", "Kitchen", "0.1.0", WAKE_WORDS)
    return HaPresence(BrokerAddress.parse(broker.url), device, controls, client_id="hub-presence"), controls


def test_the_hub_appears_as_one_device_and_follows_a_turn(mosquitto: Mosquitto, tmp_path: Path) -> None:
    ha = HaSubscriber(mosquitto.url)
    tracer = Tracer()

    async def scenario() -> tuple[HaPresence, Controls]:
        hub, controls = presence(mosquitto, tmp_path)
        hub.attach(tracer)
        await hub.start()
        assert await asyncio.to_thread(ha.wait, lambda: len(ha.configs) == 8 and ha.state("assist_state") == "idle")
        for event, data in [
            ("wake", {}),
            ("endpoint", {"reason": "silence"}),
            ("stt", {"text": "What time is it?"}),
            ("skill", {"reply": "It's ten past nine."}),
            ("first_audio", {}),
            ("playback_stop", {"reason": "done"}),
        ]:
            tracer.mark(event, **data)
            await asyncio.sleep(0.05)
        ha.command("mute", "ON")
        ha.command("volume", "35")
        ha.command("wake_word", "alexa")
        ha.command("volume", "loud")  # not a number: ignored, the state is sent again
        assert await asyncio.to_thread(ha.wait, lambda: ha.state("wake_word") == "alexa" and ha.state("mute") == "ON")
        before = ha.config_messages
        ha.home_assistant_started()
        assert await asyncio.to_thread(ha.wait, lambda: ha.config_messages >= before + 8)
        await hub.stop()
        assert await asyncio.to_thread(ha.wait, lambda: ha.available("assist_state") == "offline")
        return hub, controls

    hub, controls = asyncio.run(scenario())
    ha.close()
    devices = {c["device"]["identifiers"][0] for c in ha.configs.values()}
    assert devices == {node_id(HUB_ID)}
    device = ha.entity("mute")["device"]
    assert device["name"] == "Kitchen hub" and device["suggested_area"] == "Kitchen" and device["sw_version"] == "0.1.0"
    kinds = {oid: ha.entity(oid)["_component"] for oid in ("assist_state", "mute", "volume", "wake_word", "timers")}
    assert kinds == {
        "assist_state": "sensor",
        "mute": "switch",
        "volume": "number",
        "wake_word": "select",
        "timers": "sensor",
    }
    assert ha.entity("assist_state")["options"] == ["idle", "listening", "thinking", "speaking"]
    assert ha.entity("next_timer")["device_class"] == "timestamp" and ha.state("next_timer") == "None"
    states = ha.history("assist_state")  # then "idle" again: the states are re-sent for Home Assistant's restart
    assert states[:5] == ["idle", "listening", "thinking", "speaking", "idle"] and set(states[5:]) == {"idle"}
    assert ha.state("last_transcript") == "What time is it?" and ha.state("last_reply") == "It's ten past nine."
    assert (controls.muted, controls.volume, controls.wake_word) == (True, 35, "alexa")
    assert ha.history("volume")[-2:] == ["35", "35"]  # "loud" changed nothing, and Home Assistant was told so
    assert hub.announced == 2  # on connect, and again for Home Assistant's birth message
    assert ha.status_seen == ["online"]  # only Home Assistant's own: the hub never publishes there
    every_topic = set(ha.values) | {f"homeassistant/{c['_component']}/{node_id(HUB_ID)}" for c in ha.configs.values()}
    assert all(t.startswith((f"companion/{HUB_ID}/", "homeassistant/")) for t in every_topic)


def test_timers_show_as_entities(mosquitto: Mosquitto, tmp_path: Path) -> None:
    from edge_runtime.clock import SystemClock
    from edge_runtime.skills.timers import TimerManager

    ha = HaSubscriber(mosquitto.url)

    async def scenario() -> None:
        async def ring(timer: object, repeat: int) -> None:
            return None

        timers = TimerManager(SystemClock(None), ring)
        hub, _ = presence(mosquitto, tmp_path)
        hub.timers, hub.timer_poll_s = timers, 0.1
        await hub.start()
        timers.start(300)
        timers.start(60)
        assert await asyncio.to_thread(ha.wait, lambda: ha.state("timers") == "2")
        timers.cancel()
        assert await asyncio.to_thread(ha.wait, lambda: ha.state("timers") == "0")
        await timers.close()
        await hub.stop()

    asyncio.run(scenario())
    ha.close()
    import datetime as dt
    import json

    attributes = json.loads(ha.values[f"companion/{HUB_ID}/timers/attributes"][-2])
    assert [t["seconds"] for t in attributes["timers"]] == [60, 300]
    soonest = dt.datetime.fromisoformat(ha.history("next_timer")[-2])
    assert 50 < (soonest - dt.datetime.now(dt.UTC)).total_seconds() <= 61
    assert ha.state("next_timer") == "None"


def test_the_hubs_device_layer_does_not_take_its_own_entities_for_devices(mosquitto: Mosquitto, tmp_path: Path) -> None:
    from device_drivers import HomeAssistant

    async def scenario() -> tuple[set[str], set[str]]:
        lamp = device_from({"id": "lamp", "name": "Lamp", "kind": "light", "convention": "ha", "area": "Den"})
        with Simulator(mosquitto.url, [lamp]):
            hub, _ = presence(mosquitto, tmp_path)
            await hub.start()
            filtered = DeviceHub(mosquitto.url, tmp_path / "a.sqlite3", client_id="a")
            for codec in filtered.codecs:
                if isinstance(codec, HomeAssistant):
                    codec.ignore_nodes.add(node_id(HUB_ID))
            unfiltered = DeviceHub(mosquitto.url, tmp_path / "b.sqlite3", client_id="b")
            for devices in (filtered, unfiltered):
                await devices.start()
                await devices.settle(quiet_s=0.5, max_s=10)
            found = set(filtered.registry.records), set(unfiltered.registry.records)
            for devices in (filtered, unfiltered):
                await devices.stop()
            await hub.stop()
            return found

    mine, everything = asyncio.run(scenario())
    assert mine == {"ha:lamp"}
    assert f"ha:{node_id(HUB_ID)}_mute" in everything  # what the filter keeps out: the hub muting itself
