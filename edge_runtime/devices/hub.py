"""The hub's device layer: discovery into the registry, state into its cache, and commands
that return only when the device's state echo confirms them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_drivers import (
    BrokerAddress,
    Codec,
    Convention,
    DriverError,
    HomeAssistant,
    Homie,
    InvalidCommand,
    Zigbee2MQTT,
    implied,
)
from edge_runtime.devices.confirm import confirmed
from edge_runtime.devices.errors import (
    BrokerUnavailable,
    DeviceUnavailable,
    DeviceUnconfirmed,
    InvalidDeviceCommand,
)
from edge_runtime.devices.link import MqttLink
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from edge_runtime.devices.store import DeviceStore

log = logging.getLogger(__name__)


@dataclass
class Pending:
    record: DeviceRecord
    values: dict[str, Any]
    messages: list[tuple[str, bytes]]
    future: asyncio.Future[None]
    echoes: int = 0
    resent: bool = False


@dataclass
class DeviceEvent:
    type: str  # device-added | device-changed | device-removed | state | availability
    device_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "device": self.device_id, **self.data}


def default_codecs(ha_prefix: str = "homeassistant", z2m_base: str = "zigbee2mqtt",
                   homie_prefix: str = "homie") -> list[Codec]:  # fmt: skip
    return [HomeAssistant(ha_prefix), Zigbee2MQTT(z2m_base), Homie(homie_prefix)]


class DeviceHub:
    def __init__(
        self,
        broker_url: str,
        store_path: Path | str,
        *,
        codecs: Iterable[Codec] | None = None,
        client_id: str = "companion-hub",
        command_timeout_s: float = 3.0,
        offline_grace_s: float = 2.0,
        flush_interval_s: float = 2.0,
        username: str | None = None,
        password: str | None = None,
        tls_files: dict[str, str | None] | None = None,
    ) -> None:
        self.codecs = list(codecs or default_codecs())
        self.by_convention: dict[Convention, Codec] = {c.convention: c for c in self.codecs}
        self.registry = DeviceRegistry(DeviceStore(store_path))
        self.link = MqttLink(BrokerAddress.parse(broker_url), client_id=client_id, on_message=self._on_message,
                             username=username, password=password, tls_files=tls_files)  # fmt: skip
        self.link.on_reconnect.append(self._after_reconnect)
        self.command_timeout_s = command_timeout_s
        self.offline_grace_s = offline_grace_s
        self.flush_interval_s = flush_interval_s
        self.pending: dict[str, list[Pending]] = {}
        self.listeners: list[asyncio.Queue[DeviceEvent]] = []
        self.bad_payloads = 0
        self.last_discovery = 0.0
        self._flusher: asyncio.Task[None] | None = None

    # --- lifecycle

    async def start(self) -> DeviceHub:
        for codec in self.codecs:
            self.link.subscribe(codec.subscriptions())
            self.link.announce_on_connect(codec.online_messages())
        known = {r.id: self.by_convention[r.device.convention].topics(r.device) for r in self.registry.records.values()}
        self.registry.route_known(known)
        self.link.subscribe(t for topics in known.values() for t in topics)
        await self.link.start()
        self._flusher = asyncio.create_task(self._flush_loop())
        return self

    async def stop(self) -> None:
        if self._flusher:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.registry.flush()
        await self.link.stop()
        self.registry.store.close()

    async def __aenter__(self) -> DeviceHub:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            self.registry.flush()

    async def settle(self, *, quiet_s: float = 0.4, max_s: float = 5.0) -> None:
        """Wait for the broker, then until discovery has been quiet for `quiet_s`."""
        deadline = time.monotonic() + max_s
        if not await self.link.wait_connected(max_s):
            raise BrokerUnavailable(f"cannot reach the MQTT broker at {self.link.address}",
                                    hint="check COMPANION_MQTT_URL and that the broker runs")  # fmt: skip
        started = time.monotonic()
        while time.monotonic() < deadline:
            last = max(self.last_discovery, started)
            if time.monotonic() - last >= quiet_s:
                return
            await asyncio.sleep(0.05)

    # --- inbound

    def _on_message(self, topic: str, payload: bytes) -> None:
        routed = self.registry.routes.get(topic)
        if routed:  # state: the hot path, checked first
            self._on_state(topic, payload, routed)
            return
        for codec in self.codecs:
            try:
                found = codec.parse_discovery(topic, payload)
            except DriverError as err:
                self._bad(topic, err)
                return
            if found is not None:
                self._discovered(codec, found.devices, found.removed)
                return

    def _on_state(self, topic: str, payload: bytes, device_ids: set[str]) -> None:
        for device_id in list(device_ids):
            rec = self.registry.records.get(device_id)
            if rec is None:
                continue
            try:
                update = self.by_convention[rec.device.convention].decode(rec.device, topic, payload)
            except DriverError as err:
                self._bad(topic, err)
                continue
            if not update.values and update.available is None:
                continue
            was = rec.available
            self.registry.apply(device_id, update.values, update.available)
            if self.listeners:
                if update.values:
                    self._emit(DeviceEvent("state", device_id, {"values": update.values}))
                if rec.available != was:
                    self._emit(DeviceEvent("availability", device_id, {"available": rec.available}))
            if device_id in self.pending:
                self._check_pending(rec, bool(update.values))

    def _bad(self, topic: str, err: DriverError) -> None:
        self.bad_payloads += 1
        if self.bad_payloads <= 100 or self.bad_payloads % 1000 == 0:
            log.warning("device.bad_payload", extra={"topic": topic, "code": err.code, "error": err.message,
                                                     "count": self.bad_payloads})  # fmt: skip

    def _discovered(self, codec: Codec, devices: list[Any], removed: list[str]) -> None:
        self.last_discovery = time.monotonic()
        topics = {d.id: codec.topics(d) for d in devices}
        fresh = {r.id for r in self.registry.records.values()}
        for rec in self.registry.upsert(devices, topics):
            self._emit(DeviceEvent("device-changed" if rec.id in fresh else "device-added", rec.id,
                                   {"name": rec.name, "kind": rec.device.kind.value}))  # fmt: skip
        self.link.subscribe(t for ts in topics.values() for t in ts)
        for device_id in removed:
            self.registry.remove(device_id)
            self._emit(DeviceEvent("device-removed", device_id))

    def _emit(self, event: DeviceEvent) -> None:
        for queue in self.listeners:
            if queue.qsize() < 10_000:  # a stuck watcher must not grow memory without bound
                queue.put_nowait(event)

    def events(self) -> asyncio.Queue[DeviceEvent]:
        queue: asyncio.Queue[DeviceEvent] = asyncio.Queue()
        self.listeners.append(queue)
        return queue

    # --- commands

    async def set(self, ref: str, values: dict[str, Any], *, timeout_s: float | None = None) -> DeviceRecord:
        """Send, then wait for the state echo. Raises a DeviceError with a code otherwise."""
        try:
            return await self._set(ref, values, timeout_s)
        except DriverError as err:  # the drivers' own error type, given the hub's shape and code
            raise InvalidDeviceCommand(err.message, code=err.code, hint=err.hint) from err

    async def _set(self, ref: str, values: dict[str, Any], timeout_s: float | None) -> DeviceRecord:
        rec = self.registry.resolve(ref)
        device = rec.device
        if not values:
            raise InvalidCommand("nothing to set", hint=f"settable: {', '.join(device.writable()) or 'nothing'}")
        checked = {}
        for name, value in values.items():
            attr = device.attributes.get(name)
            if attr is None:
                raise InvalidCommand(f"{rec.name} has no '{name}'", hint=f"settable: {', '.join(device.writable())}")
            checked[name] = attr.validate(value)
        checked = implied(device, checked)
        codec = self.by_convention[device.convention]
        messages = codec.encode(device, checked)
        allowed = codec.command_topics(device)
        if any(topic not in allowed for topic, _ in messages):  # never publish outside a device's command topics
            raise InvalidCommand(f"refusing to publish outside {rec.name}'s command topics")
        # Offline for a while: say so at once. Just dropped (a broker restart, a flap): try anyway.
        if rec.available is False and time.monotonic() - rec.offline_since > self.offline_grace_s:
            raise DeviceUnavailable(f"{rec.name} is offline", hint="check its power and connection")
        timeout = self.command_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        pending = Pending(rec, checked, messages, asyncio.get_running_loop().create_future())
        self.pending.setdefault(rec.id, []).append(pending)
        state_topics = codec.topics(device)
        self.link.prioritize(state_topics)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(max(0.0, deadline - time.monotonic()), _expire, pending.future)
        try:
            await self._send(pending, deadline)
            await pending.future
        except TimeoutError:
            if rec.available is False:
                raise DeviceUnavailable(f"{rec.name} went offline before confirming") from None
            raise DeviceUnconfirmed(
                f"{rec.name} did not confirm {checked} within {timeout:g} s",
                hint="the device may be unreachable; its state is unchanged as far as the hub knows",
            ) from None
        finally:
            timer.cancel()
            self.pending[rec.id].remove(pending)
            if not self.pending[rec.id]:
                del self.pending[rec.id]
                self.link.prioritize(state_topics, on=False)
        return rec

    async def _send(self, pending: Pending, deadline: float) -> None:
        """Publish once the link is up; a command given while disconnected waits for the reconnect."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.link.wait_connected(remaining):
                raise BrokerUnavailable(
                    f"not sent: the MQTT broker at {self.link.address} was unreachable",
                    hint="the command was not delivered; try again when the broker is back",
                )
            if all(self.link.publish(topic, payload) for topic, payload in pending.messages):
                return
            await asyncio.sleep(0.05)

    def _check_pending(self, rec: DeviceRecord, echoed: bool) -> None:
        for pending in self.pending.get(rec.id, ()):
            if echoed:
                pending.echoes += 1
            if (
                pending.echoes
                and not pending.future.done()
                and confirmed(rec.device.attributes, pending.values, rec.state)
            ):
                pending.future.set_result(None)

    def _after_reconnect(self) -> None:
        """Retained state arrives on resubscribe; a command still unconfirmed after it is resent once."""
        for pendings in self.pending.values():
            for pending in pendings:
                asyncio.get_running_loop().call_later(0.5, self._resend_if_needed, pending)

    def _resend_if_needed(self, pending: Pending) -> None:
        if pending.future.done() or pending.resent:
            return
        if confirmed(pending.record.device.attributes, pending.values, pending.record.state):
            pending.future.set_result(None)
            return
        pending.resent = True
        for topic, payload in pending.messages:
            self.link.publish(topic, payload)

    async def refresh(self, ref: str) -> None:
        rec = self.registry.resolve(ref)
        for topic, payload in self.by_convention[rec.device.convention].refresh(rec.device):
            self.link.publish(topic, payload)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
