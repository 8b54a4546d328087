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
    Device,
    Discovery,
    DriverError,
    HomeAssistant,
    Homie,
    Zigbee2MQTT,
)
from device_drivers.validate import device_topics
from edge_runtime.devices.classes import CONFIRM_CLASSES
from edge_runtime.devices.commands import Commander
from edge_runtime.devices.errors import (
    BrokerUnavailable,
)
from edge_runtime.devices.link import MqttLink
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from edge_runtime.devices.reporting import Reporter
from edge_runtime.devices.store import DeviceStore

log = logging.getLogger(__name__)


@dataclass
class DeviceEvent:
    type: str  # device-added | device-changed | device-removed | device-refused | state | availability
    device_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "device": self.device_id, **self.data}


def default_codecs(
    ha_prefix: str = "homeassistant", z2m_base: str = "zigbee2mqtt", homie_prefix: str = "homie"
) -> list[Codec]:
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
        guarded_classes: frozenset[str] = CONFIRM_CLASSES,
    ) -> None:
        """`guarded_classes`: whose command topics only a device of the same class may publish on."""
        self.codecs = list(codecs or default_codecs())
        self.by_convention: dict[Convention, Codec] = {c.convention: c for c in self.codecs}
        self.registry = DeviceRegistry(DeviceStore(store_path), guarded=guarded_classes, family=self._family)
        self.link = MqttLink(
            BrokerAddress.parse(broker_url),
            client_id=client_id,
            on_message=self._on_message,
            username=username,
            password=password,
            tls_files=tls_files,
        )
        self.commander = Commander(
            self.registry, self.link, self.by_convention, timeout_s=command_timeout_s, offline_grace_s=offline_grace_s
        )
        self.flush_interval_s = flush_interval_s
        self.listeners: list[asyncio.Queue[DeviceEvent]] = []
        self.bad_payloads = 0
        self.report = Reporter(log)
        self.last_discovery = 0.0
        self._heard: dict[str, bytes] = {}  # state/availability topic -> its last message
        self._flusher: asyncio.Task[None] | None = None

    # --- lifecycle

    async def start(self) -> DeviceHub:
        for codec in self.codecs:
            self.link.subscribe(codec.subscriptions(), pinned=True)
        self._subscribe_state(r.device for r in self.registry.records.values())
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
            raise BrokerUnavailable(
                f"cannot reach the MQTT broker at {self.link.address}",
                hint="check COMPANION_MQTT_URL and that the broker runs",
            )
        started = time.monotonic()
        while time.monotonic() < deadline:
            last = max(self.last_discovery, started)
            if time.monotonic() - last >= quiet_s:
                return
            await asyncio.sleep(0.05)

    # --- inbound: everything here is untrusted, and nothing raises out of it

    def _on_message(self, topic: str, payload: bytes) -> None:
        routed = self.registry.routes.get(topic)
        if routed:  # state: the hot path, checked first
            self._heard[topic] = payload
            self._on_state(topic, payload, routed)
            return
        for codec in self.codecs:
            try:
                found = codec.discover(topic, payload)
            except DriverError as err:
                self._bad(topic, err.code, err.message)
                return
            except Exception as err:  # input nobody foresaw: one coded line, never a traceback per message
                self.bad_payloads += 1
                self.report.unexpected("device.bad_payload", "DEVICE_DISCOVERY_FAILED", err, topic=topic)
                return
            if found is not None:
                self._discovered(topic, found)
                return

    def _on_state(self, topic: str, payload: bytes, device_ids: set[str]) -> None:
        for device_id in list(device_ids):
            rec = self.registry.records.get(device_id)
            if rec is None:
                continue
            try:
                update = self.by_convention[rec.device.convention].decode(rec.device, topic, payload)
                if not update.values and update.available is None:
                    continue
                was = rec.available
                self.registry.apply(device_id, update.values, update.available, topic)
                if update.problem is not None:
                    self._bad(topic, update.problem.code, update.problem.message)
                    self.registry.note_problem(device_id, topic, payload, update.problem.code, update.problem.message)
                elif rec.problem is not None and update.values:
                    self.registry.clear_problem(rec)
                if self.listeners:
                    if update.values:
                        self._emit(DeviceEvent("state", device_id, {"values": update.values}))
                    if rec.available != was:
                        self._emit(DeviceEvent("availability", device_id, {"available": rec.available}))
                if device_id in self.commander.pending:
                    self.commander.on_state(rec, bool(update.values), back=rec.available is True and was is not True)
            except DriverError as err:
                self._bad(topic, err.code, err.message)
                self.registry.note_problem(device_id, topic, payload, err.code, err.message)
            except Exception as err:
                self.bad_payloads += 1
                self.report.unexpected("device.bad_payload", "DEVICE_DECODE_FAILED", err, topic=topic)
                self.registry.note_problem(device_id, topic, payload, "DEVICE_DECODE_FAILED", repr(err))

    def _bad(self, topic: str, code: str, message: str) -> None:
        self.bad_payloads += 1
        self.report.warn("device.bad_payload", code, topic=topic, error=message, bad_payloads=self.bad_payloads)

    def _discovered(self, topic: str, found: Discovery) -> None:
        """Withdrawals, then refusals, then what may join: each device admitted only if its topics are
        no convention's own and its id and command topics are no other source's."""
        self.last_discovery = time.monotonic()
        for source in found.withdrawn:
            ids, unused = self.registry.withdraw(source)
            self._forget(unused)
            for device_id in ids:
                self._emit(DeviceEvent("device-removed", device_id, {"source": source}))
        refused = {(r.source, r.device_id) for r in found.refused}
        for r in found.refused:
            self._refuse(r.source, r.device_id, r.error.code, r.error.message)
        admitted, sources = [], {}
        for device in found.devices:
            source = found.sources[device.id]
            problem = self._reserved(device) or self.registry.admit(device, source)
            if problem is not None:
                refused.add((source, device.id))
                self._refuse(source, device.id, *problem, device=device)
                continue
            admitted.append(device)
            sources[device.id] = source
        self.registry.restate(topic, keep=refused)
        known = set(self.registry.records)
        changed, unused = self.registry.upsert(admitted, sources)
        for rec in changed:
            self._emit(
                DeviceEvent(
                    "device-changed" if rec.id in known else "device-added",
                    rec.id,
                    {"name": rec.name, "kind": rec.device.kind.value},
                )
            )
        self._forget(unused)
        self._subscribe_state(self.registry.records[d.id].device for d in admitted)
        self._replay(admitted)

    def _replay(self, devices: list[Device]) -> None:
        """A topic already subscribed for another device (one availability topic per Tasmota or ESPHome
        node) is not sent again by the broker: a device joining later hears its last message from here."""
        for device in devices:
            topics = device_topics(device)
            for topic in sorted(topics["avail"]) + sorted(topics["state"]):
                payload = self._heard.get(topic)
                if payload is not None:
                    self._on_state(topic, payload, {device.id})

    def _forget(self, topics: set[str]) -> None:
        self.link.unsubscribe(topics)
        for topic in topics:
            self._heard.pop(topic, None)

    def _family(self, source: str) -> str:
        topic = source.split("#", 1)[0]
        return next((c.family(topic) for c in self.codecs if c.is_discovery(topic)), topic)

    def _reserved(self, device: Device) -> tuple[str, str] | None:
        """A topic a convention uses itself: commands to bridge requests or discovery topics, state that
        would shadow a discovery topic (state is routed first)."""
        topics = device_topics(device)
        for codec in self.codecs:
            for topic in topics["cmd"]:
                if codec.reserved(topic):
                    return "DEVICE_BAD_TOPIC", f"command topic {topic!r} is {codec.convention.value}'s own"
            for topic in topics["state"] | topics["avail"]:
                if codec.is_discovery(topic):
                    return "DEVICE_BAD_TOPIC", f"state topic {topic!r} is a discovery topic"
        return None

    def _refuse(self, source: str, device_id: str, code: str, reason: str, device: Device | None = None) -> None:
        self.registry.refuse(source, device_id, code, reason, device)
        self.report.warn("device.refused", code, source=source, device=device_id, reason=reason)
        self._emit(
            DeviceEvent("device-refused", device_id or source, {"code": code, "source": source, "reason": reason})
        )

    def _subscribe_state(self, devices: Iterable[Device]) -> None:
        """Devices that take commands report on the control connection, so their echoes never
        wait behind a sensor flood; the rest on the bulk one."""
        control: set[str] = set()
        bulk: set[str] = set()
        for device in devices:
            topics = device_topics(device)
            (control if device.writable() else bulk).update(topics["state"] | topics["avail"])
        self.link.subscribe_control(control)
        self.link.subscribe(bulk)

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
        return await self.commander.set(ref, values, timeout_s=timeout_s)

    async def refresh(self, ref: str) -> None:
        rec = self.registry.resolve(ref)
        for topic, payload in self.by_convention[rec.device.convention].refresh(rec.device):
            if not any(codec.reserved(topic) for codec in self.codecs):  # never a bridge request
                self.link.publish(topic, payload)
