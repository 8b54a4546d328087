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
    Zigbee2MQTT,
)
from edge_runtime.devices.commands import Commander
from edge_runtime.devices.errors import (
    BrokerUnavailable,
)
from edge_runtime.devices.link import MqttLink
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from edge_runtime.devices.store import DeviceStore

log = logging.getLogger(__name__)


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
        self.commander = Commander(self.registry, self.link, self.by_convention, timeout_s=command_timeout_s,
                                   offline_grace_s=offline_grace_s)  # fmt: skip
        self.flush_interval_s = flush_interval_s
        self.listeners: list[asyncio.Queue[DeviceEvent]] = []
        self.bad_payloads = 0
        self.last_discovery = 0.0
        self._flusher: asyncio.Task[None] | None = None

    # --- lifecycle

    async def start(self) -> DeviceHub:
        for codec in self.codecs:
            self.link.subscribe(codec.subscriptions())
        known = {r.id: self.by_convention[r.device.convention].topics(r.device) for r in self.registry.records.values()}
        self.registry.route_known(known)
        self._subscribe_state([r.device for r in self.registry.records.values()], known)
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
            if device_id in self.commander.pending:
                self.commander.on_state(rec, bool(update.values))

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
        self._subscribe_state(devices, topics)
        for device_id in removed:
            self.registry.remove(device_id)
            self._emit(DeviceEvent("device-removed", device_id))

    def _subscribe_state(self, devices: Iterable[Any], topics: dict[str, list[str]]) -> None:
        """Devices that take commands report on the control connection, so their echoes never
        wait behind a sensor flood; the rest on the bulk one."""
        commandable = {d.id for d in devices if d.writable()}
        self.link.subscribe_control(t for device_id, ts in topics.items() if device_id in commandable for t in ts)
        self.link.subscribe(t for device_id, ts in topics.items() if device_id not in commandable for t in ts)

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
            self.link.publish(topic, payload)
