"""The hub's MQTT connection: paho on its own thread, messages handed to asyncio.

Inbound messages are coalesced per topic (a state cache needs only the latest), except
on the topics of devices awaiting a command's echo, which take a fast lane. So a flood of
state messages cannot stall the command path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers.mqtt_url import BrokerAddress, configure, set_nodelay

log = logging.getLogger(__name__)
Handler = Callable[[str, bytes], None]


class MqttLink:
    def __init__(
        self,
        address: BrokerAddress,
        *,
        client_id: str,
        on_message: Handler,
        tls_files: dict[str, str | None] | None = None,
        username: str | None = None,
        password: str | None = None,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.address = address
        self._handler = on_message
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        configure(self.client, address, username=username, password=password, **(tls_files or {}))
        self.client.reconnect_delay_set(min_backoff_s, max_backoff_s)  # type: ignore[arg-type]  # floats work
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._filters: set[str] = set()
        self._online: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._latest: dict[str, bytes] = {}
        self._fast: list[tuple[str, bytes]] = []
        self._fast_topics: set[str] = set()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.on_reconnect: list[Callable[[], None]] = []
        self.connects = 0
        self.raw = 0  # messages taken off the socket
        self.received = 0  # messages handed to the hub after coalescing

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()

    async def stop(self) -> None:
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    def announce_on_connect(self, messages: Iterable[tuple[str, bytes, bool]]) -> None:
        self._online.extend(messages)

    def subscribe(self, filters: Iterable[str]) -> None:
        new = [f for f in filters if f not in self._filters]
        if not new:
            return
        self._filters.update(new)
        if self.client.is_connected():
            self.client.subscribe([(f, 1) for f in new])

    def prioritize(self, topics: Iterable[str], on: bool = True) -> None:
        with self._lock:
            if on:
                self._fast_topics.update(topics)
            else:
                self._fast_topics.difference_update(topics)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand a message to paho; False when not connected (the caller decides to wait or fail)."""
        if not self.client.is_connected():
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    # --- paho's thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt.refused", extra={"broker": str(self.address), "reason": str(reason)})
            return
        set_nodelay(client)
        if self._filters:
            client.subscribe([(f, 1) for f in sorted(self._filters)])
        for topic, payload, retain in self._online:
            client.publish(topic, payload, qos=1, retain=retain)
        self.connects += 1
        log.info("mqtt.connected", extra={"broker": str(self.address), "connects": self.connects})
        self._call(self._set_connected)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        level = logging.INFO if reason.value == 0 else logging.WARNING  # 0: we asked to leave
        log.log(level, "mqtt.disconnected", extra={"broker": str(self.address), "reason": str(reason)})
        self._call(self.connected.clear)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.raw += 1
            if msg.topic in self._fast_topics:
                self._fast.append((msg.topic, bytes(msg.payload)))
            else:
                self._latest.pop(msg.topic, None)  # keep arrival order: a re-sent topic moves to the end
                self._latest[msg.topic] = bytes(msg.payload)
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _call(self, fn: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # --- the asyncio loop

    def _set_connected(self) -> None:
        first = self.connects == 1
        self.connected.set()
        if not first:
            for hook in self.on_reconnect:
                hook()

    def _drain(self) -> None:
        with self._lock:
            fast, self._fast = self._fast, []
            latest, self._latest = self._latest, {}
            self._scheduled = False
        for topic, payload in [*fast, *latest.items()]:
            self.received += 1
            try:
                self._handler(topic, payload)
            except Exception:
                log.exception("mqtt.handler_failed", extra={"topic": topic})

    async def wait_connected(self, timeout: float) -> bool:
        if self.connected.is_set():  # the usual case: no task, no timer
            return True
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True
