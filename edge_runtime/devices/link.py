"""The hub's MQTT connections: paho on its own threads, messages handed to asyncio.

Two connections to the same broker. The bulk one takes discovery and the state of devices
that only report (sensors), coalesced per topic since a state cache needs only the latest.
The control one publishes commands and takes the state of devices that can be commanded,
in order. A broker sends each connection its own stream, so a sensor flood the hub cannot
keep up with queues behind the bulk connection and never in front of a command's echo.
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


class _Connection:
    """One paho client, its subscriptions, and its connected flag."""

    def __init__(self, link: MqttLink, name: str, client_id: str, credentials: dict[str, Any],
                 backoff: tuple[float, float]) -> None:  # fmt: skip
        self.link, self.name = link, name
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        configure(self.client, link.address, **credentials)
        self.client.reconnect_delay_set(*backoff)  # type: ignore[arg-type]  # floats work
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.filters: set[str] = set()
        self.up = False
        self.connects = 0

    def subscribe(self, filters: Iterable[str]) -> None:
        new = [f for f in filters if f not in self.filters]
        if not new:
            return
        self.filters.update(new)
        if self.client.is_connected():
            self.client.subscribe([(f, 1) for f in new])

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt.refused", extra={"broker": str(self.link.address), "reason": str(reason)})
            return
        set_nodelay(client)
        if self.filters:
            client.subscribe([(f, 1) for f in sorted(self.filters)])
        self.connects += 1
        log.info("mqtt.connected", extra={"broker": str(self.link.address), "connection": self.name,
                                          "connects": self.connects})  # fmt: skip
        self.link._call(lambda: self.link._set_up(self, True))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        level = logging.INFO if reason.value == 0 else logging.WARNING  # 0: we asked to leave
        log.log(level, "mqtt.disconnected", extra={"broker": str(self.link.address), "connection": self.name,
                                                   "reason": str(reason)})  # fmt: skip
        self.link._call(lambda: self.link._set_up(self, False))


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
        credentials: dict[str, Any] = {"username": username, "password": password, **(tls_files or {})}
        backoff = (min_backoff_s, max_backoff_s)
        self._bulk = _Connection(self, "bulk", client_id, credentials, backoff)
        self._control = _Connection(self, "control", f"{client_id}-control", credentials, backoff)
        self._bulk.client.on_message = self._on_bulk
        self._control.client.on_message = self._on_control
        self._lock = threading.Lock()
        self._latest: dict[str, bytes] = {}
        self._ordered: list[tuple[str, bytes]] = []
        self._control_topics: frozenset[str] = frozenset()  # replaced whole, so paho's thread reads it unlocked
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()  # both connections up
        self.on_reconnect: list[Callable[[], None]] = []
        self.raw = 0  # messages taken off the sockets
        self.received = 0  # messages handed to the hub after coalescing

    @property
    def connects(self) -> int:
        """Times the hub came online (the bulk connection, which takes discovery)."""
        return self._bulk.connects

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for conn in (self._control, self._bulk):
            conn.client.connect_async(self.address.host, self.address.port, keepalive=30)
            conn.client.loop_start()

    async def stop(self) -> None:
        for conn in (self._bulk, self._control):
            conn.client.disconnect()
        await asyncio.gather(*(asyncio.to_thread(c.client.loop_stop) for c in (self._bulk, self._control)))

    def subscribe(self, filters: Iterable[str]) -> None:
        """Discovery and report-only state, on the bulk connection."""
        self._bulk.subscribe(filters)

    def subscribe_control(self, topics: Iterable[str]) -> None:
        """State of commandable devices, on the control connection; the bulk one then ignores
        these topics even where one of its wildcards covers them."""
        topics = set(topics)
        if topics <= self._control_topics:
            return
        self._control_topics = self._control_topics | topics
        self._control.subscribe(topics)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand a message to paho; False when not connected (the caller decides to wait or fail)."""
        client = self._control.client
        if not client.is_connected():
            return False
        return client.publish(topic, payload, qos=qos, retain=retain).rc == mqtt.MQTT_ERR_SUCCESS

    # --- paho's threads

    def _on_bulk(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic in self._control_topics:
            return  # the control connection delivers it
        with self._lock:
            self.raw += 1
            self._latest.pop(topic, None)  # keep arrival order: a re-sent topic moves to the end
            self._latest[topic] = bytes(msg.payload)
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _on_control(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.raw += 1
            self._ordered.append((msg.topic, bytes(msg.payload)))
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _call(self, fn: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # --- the asyncio loop

    def _set_up(self, conn: _Connection, up: bool) -> None:
        conn.up = up
        if not (self._bulk.up and self._control.up):
            self.connected.clear()
            return
        if self.connected.is_set():
            return
        self.connected.set()
        if self._bulk.connects > 1 or self._control.connects > 1:
            for hook in self.on_reconnect:
                hook()

    def _drain(self) -> None:
        with self._lock:
            ordered, self._ordered = self._ordered, []
            latest, self._latest = self._latest, {}
            self._scheduled = False
        for topic, payload in [*ordered, *latest.items()]:
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
