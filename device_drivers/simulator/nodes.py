"""MQTT connections of the simulator: a Home Assistant firmware node, a Zigbee2MQTT bridge,
and Homie devices (one connection each, since each has its own last will)."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers.codec import Codec
from device_drivers.homeassistant import HomeAssistant
from device_drivers.homie import Homie
from device_drivers.model import Device, DriverError, Kind
from device_drivers.mqtt_url import BrokerAddress, configure, set_nodelay
from device_drivers.simulator.announce import ha_messages, homie_description, z2m_entry
from device_drivers.simulator.state import VirtualDevice
from device_drivers.wire import decode_value, dig, encode_value, json_path, loads, text
from device_drivers.zigbee2mqtt import Zigbee2MQTT

log = logging.getLogger(__name__)


def _wire_state(fmt: dict[str, Any], value: Any) -> Any:
    if fmt["f"] == "map":  # a state is reported in the device's words ("closed"), not as a command
        return {v: k for k, v in fmt["map"].items()}[value]
    return encode_value(fmt, value)


def _read_command(fmt: dict[str, Any], raw: Any) -> Any:
    if fmt["f"] == "map":
        return {v: k for k, v in fmt["cmd"].items()}[str(raw)]
    return decode_value(fmt, raw)


class SimNode:
    """One MQTT connection hosting some virtual devices."""

    def __init__(self, address: BrokerAddress, client_id: str, devices: list[VirtualDevice], codec: Codec) -> None:
        self.address = address
        self.devices = devices
        self.codec = codec
        self.rng = random.Random(client_id)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        configure(self.client, address)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.wired: dict[str, tuple[VirtualDevice, Device]] = {}
        self._routes: dict[str, list[tuple[VirtualDevice, Device]]] | None = None
        self.connected = threading.Event()

    # --- what a convention fills in

    def announcements(self) -> list[tuple[str, bytes]]:
        raise NotImplementedError

    def command_filters(self) -> list[str]:
        raise NotImplementedError

    def online(self) -> None:
        """Publish availability, announcements and state after (re)connecting."""
        raise NotImplementedError

    # --- shared behaviour

    def wire(self) -> None:
        """Read our own announcements with the hub's parser: the wiring both sides share."""
        for topic, payload in self.announcements():
            found = self.codec.parse_discovery(topic, payload)
            assert found is not None, topic
            for device in found.devices:
                vdev = self._owner(device)
                self.wired[device.id] = (vdev, device)

    def _owner(self, device: Device) -> VirtualDevice:
        native = device.id.split(":", 1)[1]
        for vdev in self.devices:
            if native in (vdev.id, f"{vdev.id}_main", f"{vdev.id}/main") or native.startswith(f"{vdev.id}/"):
                return vdev
        raise DriverError(f"simulator: no virtual device behind {device.id}")

    def start(self) -> None:
        self.wire()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        # Retries at most a second apart, as Zigbee2MQTT's client does (mqtt.js: every 1 s): a broker
        # restart then costs the devices about what it costs the hub.
        self.client.reconnect_delay_set(0.1, 1.0)  # type: ignore[arg-type]  # paho sleeps on floats
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """Vanish without a DISCONNECT, as a device that loses power: the broker sends the last will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def publish_state(self, vdev: VirtualDevice) -> None:
        for dev_vdev, device in self.wired.values():
            if dev_vdev is vdev:
                for topic, payload in self._state_messages(vdev, device):
                    self.client.publish(topic, payload, qos=1, retain=True)

    def _state_messages(self, vdev: VirtualDevice, device: Device) -> list[tuple[str, bytes]]:
        out = []
        for topic, routes in device.wiring["state"].items():
            obj: dict[str, Any] = {}
            plain = None
            for attr, fmt, path in routes:
                if attr not in vdev.state:
                    continue
                wire = _wire_state(fmt, vdev.state[attr])
                path = path or json_path(fmt.get("tpl"))  # `{{ value_json.value }}`: firmware sends JSON
                if path:
                    obj[path[0]] = wire
                else:
                    plain = wire
            if obj:
                out.append((topic, json.dumps(obj).encode()))
            elif plain is not None:
                out.append((topic, json.dumps(plain).encode() if isinstance(plain, bool) else str(plain).encode()))
        return out

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        set_nodelay(client)
        for topic_filter in self.command_filters():
            client.subscribe(topic_filter, qos=1)
        self.online()
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Exception as err:  # a bad command must not kill the device
            log.warning("sim.bad_command", extra={"topic": msg.topic, "error": str(err)})

    def handle(self, topic: str, payload: bytes) -> None:
        for vdev, device in self._by_command_topic().get(topic, ()):
            changes = {}
            for attr, (cmd_topic, fmt, path) in device.wiring["cmd"].items():
                if cmd_topic != topic:
                    continue
                if path:
                    try:
                        raw = dig(loads(payload), path)
                    except Exception:
                        continue
                else:
                    raw = text(payload)
                changes[attr] = _read_command(fmt, raw)
            if changes:
                self._obey(vdev, changes)

    def _by_command_topic(self) -> dict[str, list[tuple[VirtualDevice, Device]]]:
        if self._routes is None:
            self._routes = {}
            for vdev, device in self.wired.values():
                for topic in {route[0] for route in device.wiring["cmd"].values()}:
                    self._routes.setdefault(topic, []).append((vdev, device))
        return self._routes

    def _obey(self, vdev: VirtualDevice, changes: dict[str, Any]) -> None:
        if vdev.faults.drops(self.rng):
            vdev.received.append({"dropped": changes})
            return

        def act() -> None:
            vdev.apply(changes)
            self.publish_state(vdev)
            if vdev.settle():  # "opening", then "open", as a real valve reports its travel
                self.publish_state(vdev)

        if vdev.faults.latency_ms > 0:
            threading.Timer(vdev.faults.latency_ms / 1000, act).start()
        else:
            act()


class HaNode(SimNode):
    """Firmware in the Tasmota/ESPHome style: one availability topic, configs on request."""

    def __init__(self, address: BrokerAddress, node: str, devices: list[VirtualDevice], prefix: str = "homeassistant"):
        super().__init__(address, f"sim-ha-{node}", devices, HomeAssistant(prefix))
        self.prefix = prefix
        self.avail = f"sim/{node}/availability"
        self.client.will_set(self.avail, b"offline", qos=1, retain=True)

    def announcements(self) -> list[tuple[str, bytes]]:
        return [m for d in self.devices for m in ha_messages(d, self.prefix, self.avail)]

    def command_filters(self) -> list[str]:
        return [
            f"{self.prefix}/status",
            *sorted({r[0] for _, dev in self.wired.values() for r in dev.wiring["cmd"].values()}),
        ]

    def online(self) -> None:
        offline = all(d.faults.offline for d in self.devices)
        self.client.publish(self.avail, b"offline" if offline else b"online", qos=1, retain=True)
        for topic, payload in self.announcements():
            self.client.publish(topic, payload, qos=1, retain=True)
        for vdev in self.devices:
            self.publish_state(vdev)

    def handle(self, topic: str, payload: bytes) -> None:
        if topic == f"{self.prefix}/status":
            if payload == b"online":  # the hub (or Home Assistant) restarted: announce again
                self.online()
            return
        super().handle(topic, payload)


class Z2mBridge(SimNode):
    def __init__(self, address: BrokerAddress, devices: list[VirtualDevice], base: str = "zigbee2mqtt") -> None:
        super().__init__(address, "sim-zigbee2mqtt", devices, Zigbee2MQTT(base))
        self.base = base
        self.client.will_set(f"{base}/bridge/state", json.dumps({"state": "offline"}), qos=1, retain=True)

    def announcements(self) -> list[tuple[str, bytes]]:
        entries = [{"ieee_address": "0x00124b0000000000", "friendly_name": "Coordinator", "type": "Coordinator"}]
        entries += [z2m_entry(d) for d in self.devices]
        return [(f"{self.base}/bridge/devices", json.dumps(entries).encode())]

    def command_filters(self) -> list[str]:
        return [f"{self.base}/+/set", f"{self.base}/+/get"]

    def online(self) -> None:
        self.client.publish(f"{self.base}/bridge/state", json.dumps({"state": "online"}), qos=1, retain=True)
        for topic, payload in self.announcements():
            self.client.publish(topic, payload, qos=1, retain=True)
        for vdev in self.devices:
            state = "offline" if vdev.faults.offline else "online"
            self.client.publish(
                f"{self.base}/{vdev.name}/availability", json.dumps({"state": state}), qos=1, retain=True
            )
            self.publish_state(vdev)

    def handle(self, topic: str, payload: bytes) -> None:
        if topic.endswith("/get"):
            name = topic[len(self.base) + 1 : -4]
            for vdev in self.devices:
                if vdev.name == name and not vdev.faults.offline:
                    self.publish_state(vdev)
            return
        super().handle(topic, payload)


class HomieDevice(SimNode):
    def __init__(self, address: BrokerAddress, device: VirtualDevice, prefix: str = "homie") -> None:
        super().__init__(address, f"sim-homie-{device.id}", [device], Homie(prefix))
        self.root = f"{prefix}/5/{device.id}"
        self.client.will_set(f"{self.root}/$state", b"lost", qos=1, retain=True)

    def announcements(self) -> list[tuple[str, bytes]]:
        return [(f"{self.root}/$description", json.dumps(homie_description(self.devices[0])).encode())]

    def command_filters(self) -> list[str]:
        return [f"{self.root}/+/+/set"]

    def online(self) -> None:
        self.client.publish(f"{self.root}/$state", b"init", qos=1, retain=True)
        for topic, payload in self.announcements():
            self.client.publish(topic, payload, qos=1, retain=True)
        self.publish_state(self.devices[0])
        state = b"disconnected" if self.devices[0].faults.offline else b"ready"
        self.client.publish(f"{self.root}/$state", state, qos=1, retain=True)


def nodes_for(address: BrokerAddress, devices: Iterable[VirtualDevice]) -> list[SimNode]:
    by_node: dict[str, list[VirtualDevice]] = {}
    z2m: list[VirtualDevice] = []
    out: list[SimNode] = []
    for d in devices:
        if d.convention == "ha":
            by_node.setdefault(str(d.options.get("node", "ha-sim")), []).append(d)
        elif d.convention == "z2m":
            z2m.append(d)
        elif d.convention == "homie":
            out.append(HomieDevice(address, d))
        else:
            raise DriverError(f"unknown convention {d.convention!r} for {d.id}", code="SIM_BAD_CONFIG")
    out += [HaNode(address, node, devs) for node, devs in by_node.items()]
    if z2m:
        out.append(Z2mBridge(address, z2m))
    return out


__all__ = ["HaNode", "HomieDevice", "Kind", "SimNode", "Z2mBridge", "nodes_for"]
