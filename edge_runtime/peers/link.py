"""The hub's connection to its home's peers over the shared MQTT broker.

It owns `companion/<hub>/home/<home>/#` and publishes only there; it reads its home's other hubs.
Its last will (retained) says it went offline, so peers learn of a crash at once: the broker sends
the will when the TCP connection drops, which a killed process does immediately."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers.mqtt_url import BrokerAddress, configure, set_nodelay
from edge_runtime.peers.home import Home
from edge_runtime.peers.wire import (
    PeerError,
    PeerMessage,
    Status,
    home_filter,
    sealed,
    unsealed,
)

log = logging.getLogger("companion.peers")
SEEN = 4096  # nonces remembered, so a message replayed within its age limit is still refused once


@dataclass
class Peer:
    hub: str
    online: bool
    room: str | None = None
    name: str | None = None
    api: str | None = None
    seen: float = 0.0  # monotonic time of its last message


Listener = Callable[[PeerMessage, float], None]  # the message and its monotonic arrival time


class PeerLink:
    """Listeners run on the event loop of `start`, one message at a time, in arrival order."""

    def __init__(
        self,
        home: Home,
        hub_id: str,
        broker_url: str,
        *,
        room: str | None = None,
        name: str | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> None:
        self.home, self.hub_id, self.room, self.name = home, hub_id, room, name
        self.api: str | None = None  # this hub's LAN API, once it listens (`announce_api`)
        self.peers: dict[str, Peer] = {}
        self.listeners: list[Listener] = []
        self.refused = 0  # messages on our home's topics that failed to unseal: a stranger, or tampering
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"companion-peer-{hub_id}")
        self.address = BrokerAddress.parse(broker_url)
        configure(self.client, self.address, **(credentials or {}))
        will_topic, will = sealed(home, Status(hub=hub_id, online=False, room=room, name=name))
        self.client.will_set(will_topic, will, qos=1, retain=True)
        self.client.reconnect_delay_set(0.1, 1.0)  # type: ignore[arg-type]  # paho sleeps on floats
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.address.host, self.address.port, keepalive=15)
        self.client.loop_start()

    async def stop(self) -> None:
        """Say goodbye (a retained "offline"), then disconnect; a lost connection has its will said already."""
        if self.client.is_connected():
            info = self.publish(self._status(online=False), retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # the connection went meanwhile
                await asyncio.to_thread(info.wait_for_publish, 2.0)
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)
        self._loop = None

    def announce_api(self, url: str) -> None:
        """Where this hub's LAN API answers: in its status from now on, so the app can reach it."""
        self.api = url
        if self.client.is_connected():
            self.publish(self._status(online=True), retain=True)

    def _status(self, *, online: bool) -> Status:
        return Status(hub=self.hub_id, online=online, room=self.room, name=self.name, api=self.api)

    def online(self) -> list[Peer]:
        return [p for p in self.peers.values() if p.online]

    def publish(self, message: Any, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        where, payload = sealed(self.home, message)
        return self.client.publish(where, payload, qos=1, retain=retain)

    # --- paho's thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        if reason.is_failure:
            log.warning("peers.refused", extra={"reason": str(reason)})
            return
        set_nodelay(client)
        client.subscribe(home_filter(self.home.home_id), qos=1)
        self.publish(self._status(online=True), retain=True)
        self._call(self.connected.set)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        self._call(self.connected.clear)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        arrived = time.monotonic()
        if msg.topic.split("/")[1:2] == [self.hub_id] or not msg.payload:
            return  # our own, or a cleared retained status
        try:
            message = unsealed(self.home, msg.topic, bytes(msg.payload))
        except PeerError as err:
            self.refused += 1
            log.warning("peers.refused_message", extra={"code": err.code, "topic": msg.topic})
            return
        nonce = bytes(msg.payload[:16])  # base64 of the 12-byte nonce
        if nonce in self._seen:
            self.refused += 1
            return
        self._seen[nonce] = None
        if len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        self._call(self._deliver, message, arrived)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(fn, *args)

    # --- the event loop

    def _deliver(self, message: PeerMessage, arrived: float) -> None:
        peer = self.peers.setdefault(message.hub, Peer(message.hub, online=True))
        peer.seen = arrived
        if isinstance(message, Status):
            peer.online, peer.room, peer.name, peer.api = message.online, message.room, message.name, message.api
            log.info("peers.status", extra={"peer": message.hub, "online": message.online, "room": message.room})
        else:
            peer.online = True
        for listener in list(self.listeners):
            try:
                listener(message, arrived)
            except Exception:
                log.exception("peers.listener_failed", extra={"kind": message.kind.value})
