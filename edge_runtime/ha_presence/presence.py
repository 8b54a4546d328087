"""The hub's own MQTT connection for Home Assistant: discovery, state, commands, availability.

Its last will marks the hub offline if the process dies (the broker publishes it); a clean stop
publishes offline itself. When Home Assistant (re)starts it announces `<prefix>/status` = online,
and the hub answers by publishing its configs and states again: it listens to that topic and
never publishes on it. Everything it publishes is retained, on topics it owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from device_drivers.mqtt_url import BrokerAddress, configure, set_nodelay
from edge_runtime.ha_presence.controls import Controls
from edge_runtime.ha_presence.entities import OFFLINE, ONLINE, HubDevice, command_filter, discovery
from edge_runtime.ha_presence.state import PresenceState, TurnTracker, same_timers, timers_now
from edge_runtime.skills.timers import TimerManager
from edge_runtime.trace import Tracer

log = logging.getLogger(__name__)
Credentials = dict[str, Any]


class EntitySource(Protocol):
    """More of the hub's entities under its device (the cameras' sensors): configs and states."""

    def discovery(self, hub: HubDevice) -> list[tuple[str, dict[str, Any]]]: ...

    def messages(self) -> dict[str, str]: ...


class HaPresence:
    def __init__(
        self,
        address: BrokerAddress,
        hub: HubDevice,
        controls: Controls,
        *,
        client_id: str,
        credentials: Credentials | None = None,
        timers: TimerManager | None = None,
        timer_poll_s: float = 1.0,
    ) -> None:
        self.hub, self.controls, self.timers = hub, controls, timers
        self.address, self.timer_poll_s = address, timer_poll_s
        self.state = PresenceState(muted=controls.muted, volume=controls.volume, wake_word=controls.wake_word)
        self.tracker = TurnTracker(self.state, self._changed)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        configure(self.client, address, **(credentials or {}))
        self.client.will_set(hub.availability, OFFLINE, qos=1, retain=True)
        self.client.reconnect_delay_set(0.1, 1.0)  # type: ignore[arg-type]  # back within a second of the broker, like the device layer
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._sent: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.announced = 0  # times the configs were published (connects and Home Assistant restarts)
        self.sources: list[EntitySource] = []

    def add_source(self, source: EntitySource) -> None:
        """Announce a source's entities with the hub's own (now, if connected; else on connect)."""
        self.sources.append(source)
        if self.client.is_connected():
            self._call(self._announce)

    def announce(self) -> None:
        """Publish every config again (a source's entities changed: a camera came); safe from any thread."""
        if self.client.is_connected():
            self._call(self._announce)

    def refresh(self) -> None:
        """Publish what changed in the sources' states; safe from any thread."""
        self._call(self._changed)

    def attach(self, tracer: Tracer) -> None:
        tracer.listeners.append(self.tracker.on_mark)

    async def start(self) -> HaPresence:
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        if self.timers is not None:
            self._poller = asyncio.create_task(self._poll_timers())
        return self

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self.client.is_connected():
            sent = self.client.publish(self.hub.availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(sent.wait_for_publish, 2.0)
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    # --- paho's thread: hand everything to the loop

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("ha_presence.refused", extra={"broker": str(self.address), "reason": str(reason)})
            return
        set_nodelay(client)
        client.subscribe([(self.hub.birth, 1), (command_filter(self.hub), 1)])
        self._call(self._announce)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic, payload = msg.topic, bytes(msg.payload)
        self._call(lambda: self._received(topic, payload))

    def _call(self, fn: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # --- the loop's side

    def _announce(self) -> None:
        """Availability, every config, every state: on each connect and each Home Assistant start."""
        self.announced += 1
        self.client.publish(self.hub.availability, ONLINE, qos=1, retain=True)
        extra = [item for source in self.sources for item in source.discovery(self.hub)]
        for topic, config in [*discovery(self.hub), *extra]:
            self.client.publish(topic, _json(config), qos=1, retain=True)
        self._sent.clear()
        self._changed()
        log.info("ha_presence.announced", extra={"node_id": self.hub.node_id, "times": self.announced})

    def _changed(self) -> None:
        messages = self.state.messages()
        for source in self.sources:
            messages.update(source.messages())
        for name, payload in messages.items():
            if self._sent.get(name) != payload:
                self._sent[name] = payload
                self.client.publish(self.hub.topic(name), payload, qos=1, retain=True)

    def _received(self, topic: str, payload: bytes) -> None:
        if topic == self.hub.birth:
            if payload == ONLINE.encode():
                self._announce()
            return
        name = topic.removeprefix(self.hub.base + "/").removesuffix("/set")
        text = payload.decode("utf-8", "replace").strip()[:64]
        task = asyncio.ensure_future(self._command(name, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _command(self, name: str, value: str) -> None:
        c = self.controls
        try:
            if name == "mute" and value in ("ON", "OFF"):
                c.muted = value == "ON"
            elif name == "volume":
                c.set_volume(round(float(value)))
            elif name == "wake_word" and value in self.hub.wake_words:
                await c.set_wake_word(value)
            else:
                log.warning("ha_presence.bad_command", extra={"entity": name[:32], "value": value})
        except (ValueError, OverflowError):
            log.warning("ha_presence.bad_command", extra={"entity": name[:32], "value": value})
        except Exception as err:  # a model that fails to load: say so, keep the old wake word
            log.error("ha_presence.command_failed", extra={"entity": name[:32], "error": str(err)})
        self.state.muted, self.state.volume, self.state.wake_word = c.muted, c.volume, c.wake_word
        self._sent.pop(name, None)  # echo the state even when unchanged, so Home Assistant's switch settles
        self._changed()

    async def _poll_timers(self) -> None:
        assert self.timers is not None
        while True:
            now = timers_now(self.timers)
            if not same_timers(now, self.state.timers):
                self.state.timers = now
                self._changed()
            await asyncio.sleep(self.timer_poll_s)


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, separators=(",", ":"))
