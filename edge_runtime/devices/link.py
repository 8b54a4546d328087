"""The hub's MQTT connections: paho on its own threads, messages handed to asyncio.

Two connections to the same broker. The bulk one takes discovery and the state of devices
that only report (sensors), coalesced per topic since a state cache needs only the latest.
The control one publishes commands and takes the state of devices that can be commanded,
in order. A broker sends each connection its own stream, so a sensor flood the hub cannot
keep up with queues behind the bulk connection and never in front of a command's echo.

Every topic is checked before it is published or subscribed to, and nothing is dropped without
being counted (`dropped`, `broker_dropped`) and reported with a code.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers import BrokerAddress, DriverError
from device_drivers.validate import check_topic, topic_problem
from edge_runtime.devices.connection import Connection
from edge_runtime.devices.reporting import Reporter

log = logging.getLogger(__name__)
Handler = Callable[[str, bytes], None]
MAX_BACKLOG = 200_000  # messages taken off the sockets and not yet handled; more are dropped, and counted
MAX_REFUSED = 256
# Mosquitto's count of messages it dropped for any client (queue limits), every `sys_interval` seconds.
SYS_DROPPED = "$SYS/broker/publish/messages/dropped"


class MessageRefused(DriverError):
    code = "MQTT_MESSAGE_REFUSED"


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
        min_backoff_s: float = 0.1,
        max_backoff_s: float = 1.0,
    ) -> None:
        """Reconnecting waits `min_backoff_s`, doubling up to `max_backoff_s`, each wait drawn from the upper
        half of its step: a home hub is back within a second of its broker, and tries a LAN broker that is
        down at most twice a second per connection meanwhile."""
        self.address = address
        self._handler = on_message
        credentials: dict[str, Any] = {"username": username, "password": password, **(tls_files or {})}
        backoff = (min_backoff_s, max_backoff_s)
        self._bulk = Connection(self, "bulk", client_id, credentials, backoff, qos=0)
        self._control = Connection(self, "control", f"{client_id}-control", credentials, backoff, qos=1)
        self._bulk.client.on_message = self._on_bulk
        self._control.client.on_message = self._on_control
        self._lock = threading.Lock()
        self._latest: dict[str, bytes] = {}
        self._ordered: list[tuple[str, bytes]] = []
        self._control_topics: frozenset[str] = frozenset()  # replaced whole, so paho's thread reads it unlocked
        self._pinned: set[str] = {SYS_DROPPED}  # the conventions' filters: never unsubscribed with a device
        self._bulk.subscribe([SYS_DROPPED])
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused: OrderedDict[str, None] = OrderedDict()  # topics, oldest first
        self._broker_dropped_seen: int | None = None
        self.report = Reporter(log)
        self.connected = asyncio.Event()  # both connections up
        self.ups = 0  # times `connected` was set: a command remembers which connection it went out on
        self.up_since = 0.0  # monotonic, when `connected` was last set
        self.down_since = time.monotonic()  # when it was last cleared (or the link was made)
        self.on_reconnect: list[Callable[[], None]] = []
        self.raw = 0  # messages taken off the sockets
        self.received = 0  # messages handed to the hub after coalescing
        self.dropped = 0  # by the hub: a full backlog, or paho's outgoing queue full
        self.broker_dropped = 0  # by the broker, for any client, since the hub connected
        self.refused_messages = 0  # messages that made the broker drop the connection

    @property
    def connects(self) -> int:
        """Times the hub came online (the bulk connection, which takes discovery)."""
        return self._bulk.connects

    def peer(self, conn: Connection) -> Connection:
        return self._bulk if conn is self._control else self._control

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.down_since = time.monotonic()
        for conn in (self._control, self._bulk):
            conn.client.connect_async(self.address.host, self.address.port, keepalive=30)
            conn.client.loop_start()

    async def stop(self) -> None:
        for conn in (self._bulk, self._control):
            conn.client.disconnect()
        await asyncio.gather(*(asyncio.to_thread(c.client.loop_stop) for c in (self._bulk, self._control)))

    def subscribe(self, filters: Iterable[str], *, pinned: bool = False) -> None:
        """Discovery (`pinned`: the conventions' own filters) and report-only state, on the bulk connection."""
        filters = set(filters)
        if pinned:
            self._pinned |= filters
        else:
            filters = self._exact(filters)
        self._bulk.subscribe(filters)

    def subscribe_control(self, topics: Iterable[str]) -> None:
        """State of commandable devices, on the control connection; the bulk one then ignores
        these topics even where one of its wildcards covers them."""
        topics = self._exact(set(topics))
        if topics <= self._control_topics:
            return
        self._control_topics = self._control_topics | topics
        self._control.subscribe(topics)

    def unsubscribe(self, topics: Iterable[str]) -> None:
        """Topics no device uses any more (the conventions' filters stay)."""
        topics = set(topics) - self._pinned
        if topics:
            self._control_topics = self._control_topics - topics
            self._control.unsubscribe(topics)
            self._bulk.unsubscribe(topics)

    def _exact(self, topics: set[str]) -> set[str]:
        """A device's topics are exact: a wildcard here would subscribe the hub to everyone's messages."""
        bad = {t for t in topics if topic_problem(t) is not None}
        for topic in bad:
            self.report.warn(
                "mqtt.subscription_refused", "DEVICE_BAD_TOPIC", topic=repr(topic)[:100], error=topic_problem(topic)
            )
        return topics - bad

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand a message to paho; False when not connected (the caller decides to wait or fail).
        Raises BadTopic for a topic the broker would drop us for, MessageRefused for a message it did."""
        return self.publish_info(topic, payload, qos=qos, retain=retain) is not None

    def publish_info(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo | None:
        """As `publish`, with paho's handle on the message: a stateless device's press is done when
        the broker acknowledges it (`is_published()`), as Home Assistant counts a button press."""
        check_topic(topic, "publish topic")
        if topic in self._refused:
            raise MessageRefused(f"not sent: the broker dropped the connection for a message to {topic!r}")
        client = self._control.client
        if not client.is_connected():
            return None
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            self._control.unqueue(info.mid)
            return None
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            self.dropped += 1
            self.report.warn("mqtt.dropped", "MQTT_QUEUE_FULL", topic=topic, dropped=self.dropped)
            raise DriverError("not sent: too many commands wait for the broker", code="MQTT_QUEUE_FULL")
        return info if info.rc == mqtt.MQTT_ERR_SUCCESS else None

    def is_refused(self, topic: str) -> bool:
        return topic in self._refused

    def mark_refused(self, topic: str, payload: bytes) -> None:
        """Called on paho's thread: the broker dropped the connection for a message to `topic`, so nothing
        is published there again (commands are a few bytes: it is the topic the broker refuses)."""
        with self._lock:
            self._refused[topic] = None
            while len(self._refused) > MAX_REFUSED:
                self._refused.popitem(last=False)
            self.refused_messages += 1
            self.report.warn("mqtt.message_refused", "MQTT_MESSAGE_REFUSED", topic=repr(topic)[:100], size=len(payload))

    # --- paho's threads

    def _on_bulk(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic in self._control_topics:
            return  # the control connection delivers it
        if topic == SYS_DROPPED:
            self._broker_count(bytes(msg.payload))
            return
        with self._lock:
            self.raw += 1
            if self._latest.pop(topic, None) is None and len(self._latest) >= MAX_BACKLOG:
                self._drop(topic)
                return
            self._latest[topic] = bytes(msg.payload)  # keep arrival order: a re-sent topic moves to the end
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _on_control(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.raw += 1
            if len(self._ordered) >= MAX_BACKLOG:
                self._drop(msg.topic)
                return
            self._ordered.append((msg.topic, bytes(msg.payload)))
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _drop(self, topic: str) -> None:
        self.dropped += 1
        self.report.warn("mqtt.dropped", "MQTT_BACKLOG_FULL", topic=topic, dropped=self.dropped)

    def _broker_count(self, payload: bytes) -> None:
        try:
            total = int(payload)
        except ValueError:
            return
        seen, self._broker_dropped_seen = self._broker_dropped_seen, total
        if seen is not None and total > seen:
            self.broker_dropped += total - seen
            self.report.warn(
                "mqtt.broker_dropped",
                "MQTT_BROKER_DROPPED",
                dropped=total - seen,
                hint="raise max_queued_messages in mosquitto.conf",
            )

    def _call(self, fn: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # --- the asyncio loop

    def _set_up(self, conn: Connection, up: bool) -> None:
        conn.up = up
        if not (self._bulk.up and self._control.up):
            if self.connected.is_set():
                self.down_since = time.monotonic()
            self.connected.clear()
            return
        if self.connected.is_set():
            return
        self.ups += 1
        self.up_since = time.monotonic()
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
            except Exception as err:  # the hub's handler reports its own; this is the last line
                self.report.unexpected("mqtt.handler_failed", "MQTT_HANDLER_FAILED", err, topic=topic)

    def down_for(self) -> float:
        """Seconds since the hub lost the broker; 0 while connected."""
        return 0.0 if self.connected.is_set() else time.monotonic() - self.down_since

    async def wait_connected(self, timeout: float) -> bool:
        if self.connected.is_set():  # the usual case: no task, no timer
            return True
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True
