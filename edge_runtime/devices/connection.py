"""One paho client of the hub: its subscriptions, its connected flag, and what it lost when it dropped.

paho sends its unacknowledged QoS-1 messages again on every reconnect. When the message is what made
the broker drop the connection (a packet it refuses), that is a loop: drop, reconnect, resend, drop.
So the hub takes them back at every unexpected disconnect, and the command layer decides what to resend.
When only this connection dropped while the other stayed up, the broker was there and refused what we
sent: the first unacknowledged message is the culprit, and is never sent again.

Reconnecting: paho's own backoff doubles up to its cap and never jitters. Ours starts at the minimum,
doubles up to the cap (1 s for the hub: it is back within a second of a restarted broker, and a refused
TCP connection or two a second costs a LAN broker nothing), and draws each wait from the upper half of
its step, so clients that dropped together do not all knock at once.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

from device_drivers.mqtt_url import configure, set_nodelay

if TYPE_CHECKING:
    from edge_runtime.devices.link import MqttLink

log = logging.getLogger("edge_runtime.devices.link")
MAX_QUEUED = 10_000  # commands paho holds for a slow broker; one more is refused, counted and reported
OUTAGE_WINDOW_S = 2.0  # both connections dropping this close together is the broker or the network


class Connection:
    def __init__(
        self,
        link: MqttLink,
        name: str,
        client_id: str,
        credentials: dict[str, Any],
        backoff: tuple[float, float],
        *,
        qos: int,
    ) -> None:
        """`qos` of its subscriptions: 0 for bulk, since a broker queues at most `max_queued_messages` (1000 on
        a stock Mosquitto) QoS-1 messages for a client and drops the rest of a retained burst silently."""
        self.link, self.name, self.qos = link, name, qos
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        configure(self.client, link.address, **credentials)
        self.backoff = backoff
        self.tries = 0  # failed connection attempts since the last success
        self._next_wait()
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self.filters: set[str] = set()
        self.up = False
        self.connects = 0
        self.drops = 0  # unexpected disconnects, counted on paho's thread
        self.dropped_at = 0.0  # monotonic time of the last one
        self._lost: list[mqtt.MQTTMessage] = []

    def subscribe(self, filters: set[str] | list[str]) -> None:
        new = [f for f in filters if f not in self.filters]
        if not new:
            return
        self.filters.update(new)
        if self.client.is_connected():
            self.client.subscribe([(f, self.qos) for f in new])

    def unsubscribe(self, topics: set[str]) -> None:
        gone = [t for t in topics if t in self.filters]
        if not gone:
            return
        self.filters.difference_update(gone)
        if self.client.is_connected():
            self.client.unsubscribe(gone)

    def unqueue(self, mid: int) -> None:
        """paho keeps a QoS-1 message it could not write (its socket is gone but its state still says
        connected: the moment of a drop, or the wait after a keepalive timeout) and sends it at the next
        connect. Its caller was told "not sent", and will send it again or report it unsent, so paho must
        not: take it back. paho has a public call only for all of them (`drop_out_messages`)."""
        with self.client._out_message_mutex:
            self.client._out_messages.pop(mid, None)

    def _next_wait(self) -> None:
        """Set paho's next reconnect wait: min, 2×min, … up to the cap, each drawn from its step's upper half."""
        low, high = self.backoff
        step = min(high, low * 2**self.tries)
        wait = random.uniform(step / 2, step)
        self.client.reconnect_delay_set(wait, wait)  # type: ignore[arg-type]  # paho sleeps on floats

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        """No TCP connection (the broker is down): wait longer next time, up to the cap."""
        self.tries += 1
        self._next_wait()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning(
                "mqtt.refused",
                extra={"broker": str(self.link.address), "reason": str(reason), "code": "MQTT_CONNECT_REFUSED"},
            )
            self.tries += 1
            self._next_wait()
            return
        self.tries = 0
        self._next_wait()
        set_nodelay(client)
        self._judge_lost()
        if self.filters:
            client.subscribe([(f, self.qos) for f in sorted(self.filters)])
        self.connects += 1
        log.info(
            "mqtt.connected",
            extra={"broker": str(self.link.address), "connection": self.name, "connects": self.connects},
        )
        self.link._call(lambda: self.link._set_up(self, True))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        level = logging.INFO if reason.value == 0 else logging.WARNING  # 0: we asked to leave
        log.log(
            level,
            "mqtt.disconnected",
            extra={"broker": str(self.link.address), "connection": self.name, "reason": str(reason)},
        )
        if reason.value != 0:
            self.drops += 1
            self.dropped_at = time.monotonic()
            self._lost += client.drop_out_messages()  # paho would send them all again on reconnect
        self.link._call(lambda: self.link._set_up(self, False))

    def _judge_lost(self) -> None:
        """On reconnect: if the other connection stayed up all along (no drop since shortly before ours),
        the broker was there and refused what we sent; the first unacknowledged message is the culprit."""
        lost, self._lost = self._lost, []
        sent = [m for m in lost if m.state == mqtt.mqtt_ms_wait_for_puback]
        if sent and self.link.peer(self).dropped_at < self.dropped_at - OUTAGE_WINDOW_S:
            self.link.mark_refused(sent[0].topic, bytes(sent[0].payload))
