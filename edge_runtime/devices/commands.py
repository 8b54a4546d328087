"""The command path: validate, publish at QoS 1, and return only on a confirming state echo.

A command given while the broker is away waits for the reconnect (or fails at its timeout,
never silently); once the broker has been away longer than a flap, it fails at once. While the hub
has no broker it knows nothing of any device, so that failure is MQTT_DISCONNECTED, never
DEVICE_OFFLINE. A command to a device that has just dropped waits for it to come back the same way.
A command sent on a connection that then dropped, or to a device that then went away, is sent once
more when the broker or the device is back, unless the state it reports first confirms it, so a
restart neither loses nor repeats commands. Once a command has been sent, the answer is that it
was confirmed or that it was not (DEVICE_UNCONFIRMED), never "offline" or "not sent": the device may
well have carried it out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from device_drivers import STATELESS_KINDS, Codec, Convention, DriverError, InvalidCommand, implied
from edge_runtime.devices.confirm import confirmed
from edge_runtime.devices.connection import OUTAGE_WINDOW_S
from edge_runtime.devices.errors import (
    BrokerUnavailable,
    DeviceUnavailable,
    DeviceUnconfirmed,
    InvalidDeviceCommand,
)
from edge_runtime.devices.link import MessageRefused, MqttLink
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry

RESEND_AFTER_S = 0.5  # after a reconnect or a device's return: time for its reported state to confirm first


@dataclass
class Pending:
    record: DeviceRecord
    values: dict[str, Any]
    messages: list[tuple[str, bytes]]
    future: asyncio.Future[None]
    echoes: int = 0
    resent: bool = False
    sent_on: int = 0  # the link's connection (`MqttLink.ups`) it went out on; 0: not sent yet
    back: asyncio.Event = field(default_factory=asyncio.Event)  # the device announced itself online


class Commander:
    def __init__(
        self,
        registry: DeviceRegistry,
        link: MqttLink,
        codecs: dict[Convention, Codec],
        *,
        timeout_s: float,
        offline_grace_s: float,
    ) -> None:
        self.registry = registry
        self.link = link
        self.by_convention = codecs
        self.command_timeout_s = timeout_s
        self.offline_grace_s = offline_grace_s
        self.pending: dict[str, list[Pending]] = {}
        link.on_reconnect.append(self._after_reconnect)

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
        if checked.get("press") is False:
            raise InvalidCommand(f"{rec.name} can only be pressed", hint="press=true")
        checked = implied(device, checked)
        codec = self.by_convention[device.convention]
        messages = codec.encode(device, checked)
        allowed = codec.command_topics(device)
        if any(topic not in allowed for topic, _ in messages):  # never publish outside a device's command topics
            raise InvalidCommand(f"refusing to publish outside {rec.name}'s command topics")
        guarded = self.registry.guard_problem(rec, (topic for topic, _ in messages))
        if guarded is not None:  # a switch on a lock's topic would unlock without the lock's confirmation
            raise InvalidCommand(
                f"refusing to command {rec.name}: {guarded}",
                code="DEVICE_TOPIC_GUARDED",
                hint="see `companion doctor`: two devices announced the same topic",
            )
        timeout = self.command_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        # Without the broker no device's availability is known: the broker is the news. Away for a
        # while: say so at once. Just dropped (a broker restart, a flap): wait for it.
        if not self.link.connected.is_set() and (
            self.link.down_for() > self.offline_grace_s
            or not await self.link.wait_connected(deadline - time.monotonic())
        ):
            raise self._unreachable()
        # Offline for a while: say so at once. Just dropped (a broker restart, a flap): wait for it below.
        if rec.available is False and time.monotonic() - self._offline_since(rec) > self.offline_grace_s:
            raise DeviceUnavailable(f"{rec.name} is offline", hint="check its power and connection")
        if device.kind in STATELESS_KINDS:
            await self._press(rec, messages, deadline, timeout)
            return rec
        pending = Pending(rec, checked, messages, asyncio.get_running_loop().create_future())
        self.pending.setdefault(rec.id, []).append(pending)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(max(0.0, deadline - time.monotonic()), _expire, pending.future)
        try:
            if rec.available is False:
                await self._wait_back(pending, deadline)
            await self._send(pending, deadline)
            await pending.future
        except TimeoutError:  # sent (`_send` raised otherwise): it may have happened, so never "offline"
            why = (
                "the hub lost the MQTT broker"
                if not self.link.connected.is_set()
                else f"{rec.name} went offline"
                if rec.available is False
                else "no state echo came"
            )
            raise DeviceUnconfirmed(
                f"{rec.name} did not confirm {checked} within {timeout:g} s ({why})",
                hint="the command was sent and may have been carried out; the hub has no confirmation",
            ) from None
        finally:
            timer.cancel()
            if pending.future.done() and not pending.future.cancelled():
                pending.future.exception()  # retrieved: the timer may have fired while this failed otherwise
            self.pending[rec.id].remove(pending)
            if not self.pending[rec.id]:
                del self.pending[rec.id]
        return rec

    async def _wait_back(self, pending: Pending, deadline: float) -> None:
        """A device that has just dropped would get nothing sent to it now (a clean session keeps nothing):
        wait for it to announce itself online again, up to the deadline."""
        try:
            await asyncio.wait_for(pending.back.wait(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise DeviceUnavailable(
                f"not sent: {pending.record.name} went offline and did not come back in time",
                hint="check its power and connection",
            ) from None

    async def _send(self, pending: Pending, deadline: float) -> None:
        """Publish once the link is up; a command given while disconnected waits for the reconnect."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.link.wait_connected(remaining):
                raise self._unreachable()
            if all(self.link.publish(topic, payload) for topic, payload in pending.messages):
                pending.sent_on = self.link.ups
                return
            await asyncio.sleep(0.05)

    def _offline_since(self, rec: DeviceRecord) -> float:
        """When the device went offline as far as a connected hub can tell. A broker that shuts down first
        sends every client's last will, and hands them back retained when it returns: a device whose will
        came with the hub's own drop has been offline only since the hub's reconnect."""
        link = self.link
        if link.up_since > rec.offline_since >= link.down_since - OUTAGE_WINDOW_S:
            return link.up_since
        return rec.offline_since

    def _unreachable(self) -> BrokerUnavailable:
        return BrokerUnavailable(
            f"not sent: the MQTT broker at {self.link.address} was unreachable",
            hint="the command was not delivered; try again when the broker is back",
        )

    async def _press(
        self, rec: DeviceRecord, messages: list[tuple[str, bytes]], deadline: float, timeout: float
    ) -> None:
        """A scene or a button has no state to echo: done once the broker acknowledges the press (QoS 1)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.link.wait_connected(remaining):
                raise self._unreachable()
            infos = [self.link.publish_info(topic, payload) for topic, payload in messages]
            if all(info is not None for info in infos):
                break
            await asyncio.sleep(0.05)
        while not all(info is not None and info.is_published() for info in infos):
            if time.monotonic() >= deadline:
                raise DeviceUnconfirmed(
                    f"the broker did not acknowledge pressing {rec.name} within {timeout:g} s",
                    hint="the press may not have reached the device",
                )
            await asyncio.sleep(0.002)

    def on_state(self, rec: DeviceRecord, echoed: bool, back: bool = False) -> None:
        """A device's state changed: does it confirm a command waiting on it? `back`: it has just come
        online, so a command sent to it while it was away (lost with its clean session) may need resending."""
        for pending in self.pending.get(rec.id, ()):
            if back:
                pending.back.set()
                if pending.sent_on and not pending.future.done():
                    asyncio.get_running_loop().call_later(RESEND_AFTER_S, self._resend_if_needed, pending)
            if echoed:
                pending.echoes += 1
            if (
                pending.echoes
                and not pending.future.done()
                and confirmed(rec.device.attributes, pending.values, rec.state)
            ):
                pending.future.set_result(None)

    def _after_reconnect(self) -> None:
        """Retained state arrives on resubscribe; a command sent before the drop and still unconfirmed after
        it is resent once, unless its message is what made the broker drop the connection: that one fails
        with its code. A command not sent yet is `_send`'s: it goes out now, once."""
        for pendings in self.pending.values():
            for pending in pendings:
                if not 0 < pending.sent_on < self.link.ups:
                    continue
                if any(self.link.is_refused(topic) for topic, _ in pending.messages):
                    _fail(
                        pending.future,
                        MessageRefused(
                            f"{pending.record.name}: the broker dropped the "
                            "connection for this command; it is not sent again"
                        ),
                    )
                    continue
                asyncio.get_running_loop().call_later(RESEND_AFTER_S, self._resend_if_needed, pending)

    def _resend_if_needed(self, pending: Pending) -> None:
        if pending.future.done() or pending.resent:
            return
        if confirmed(pending.record.device.attributes, pending.values, pending.record.state):
            pending.future.set_result(None)
            return
        try:
            if all(self.link.publish(topic, payload) for topic, payload in pending.messages):  # else the next reconnect
                pending.resent = True
                pending.sent_on = self.link.ups
        except DriverError as err:
            _fail(pending.future, err)


def _fail(future: asyncio.Future[None], err: Exception) -> None:
    if not future.done():
        future.set_exception(err)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
