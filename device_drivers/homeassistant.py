"""Home Assistant MQTT discovery: `<prefix>/<component>/[<node_id>/]<object_id>/config`,
and device-level configs at `<prefix>/device/<id>/config` with `cmps`."""

from __future__ import annotations

from functools import partial
from typing import Any

from device_drivers.codec import Codec, Discovery, add_availability, wiring
from device_drivers.ha_config import device_key, entity_name, expand
from device_drivers.ha_platforms import PLATFORMS
from device_drivers.model import Attribute, Convention, Device, InvalidPayload, Kind
from device_drivers.validate import check_topic
from device_drivers.wire import loads

KINDS = {k.value: k for k in Kind}


class HomeAssistant(Codec):
    convention = Convention.HOME_ASSISTANT

    def __init__(self, prefix: str = "homeassistant") -> None:
        self.prefix = prefix
        self.ignore_nodes: set[str] = set()  # node ids whose entities are not devices: the hub's own

    def subscriptions(self) -> list[str]:
        return [f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"]

    def is_discovery(self, topic: str) -> bool:
        parts = topic.split("/")
        return parts[0] == self.prefix and parts[-1] == "config" and len(parts) in (4, 5)

    def family(self, topic: str) -> str:
        """`<prefix>/<component>/<node>/<object>/config`: the entities of one node (Zigbee2MQTT's, ESPHome's)
        are one device and share its topics; a config without a node is a device of its own."""
        parts = topic.split("/")
        return f"{parts[0]}/+/{parts[2]}" if len(parts) == 5 else topic

    def reserved(self, topic: str) -> bool:
        return self.is_discovery(topic) or topic == f"{self.prefix}/status"  # Home Assistant's birth topic

    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        """An empty config withdraws what this topic announced, whatever its unique_id."""
        if not self.is_discovery(topic):
            return None
        parts = topic.split("/")
        if parts[2] in self.ignore_nodes:
            return Discovery()
        component = parts[1]
        native = "_".join(parts[2:-1])
        if not payload:
            return Discovery(withdrawn=[topic])
        if component == "device":
            return self._device_config(topic, native, payload)
        if component not in KINDS:
            return Discovery()  # a platform we do not control (camera, scene, ...): ignored
        config = expand(_object(payload))
        found = Discovery()
        found.read(topic, lambda: [self._device(component, native, config)], _device_id(config, native))
        return found

    def _device_config(self, topic: str, native: str, payload: bytes) -> Discovery:
        """Each component is its own source (`<topic>#<object id>`); one with only a platform is removed."""
        shared = expand(_object(payload))
        components = shared.pop("cmps", None) or shared.pop("components", None)
        if not isinstance(components, dict):
            raise InvalidPayload("device config without 'cmps'")
        found = Discovery()
        for object_id, raw in components.items():
            source = f"{topic}#{object_id}"
            if not raw or (isinstance(raw, dict) and set(raw) <= {"p", "platform"}):
                found.withdrawn.append(source)
                continue
            native_id = f"{native}_{object_id}"
            ids = _device_id(raw, native_id) if isinstance(raw, dict) else f"ha:{native_id}"
            found.read(source, partial(self._component, shared, native, object_id, raw), ids)
        return found

    def _component(self, shared: dict[str, Any], native: str, object_id: str, raw: Any) -> list[Device]:
        if not isinstance(raw, dict):
            raise InvalidPayload(f"component {object_id!r} is not an object")
        config = {**shared, **expand({"~": shared.get("~"), **raw} if shared.get("~") else raw)}
        platform = config.get("platform")
        return [self._device(platform, f"{native}_{object_id}", config)] if platform in KINDS else []

    def _device(self, component: str, native: str, c: dict[str, Any]) -> Device:
        kind = KINDS[component]
        unique = _device_id(c, native)[3:]
        for key, value in c.items():  # every topic it gives must be one, used by us or not (as HA checks)
            if key.endswith("topic") and value is not None:
                check_topic(value, key)
        dev = c.get("device") or {}
        if not isinstance(dev, dict):
            raise InvalidPayload("'device' must be an object")
        w = wiring()
        attributes = PLATFORMS[kind.value](c, w)
        for avail in c.get("availability") or []:
            on, off = avail.get("payload_available", "online"), avail.get("payload_not_available", "offline")
            add_availability(w, avail.get("topic"), str(on), str(off), None, avail.get("value_template"))
        add_availability(
            w,
            c.get("availability_topic"),
            str(c.get("payload_available", "online")),
            str(c.get("payload_not_available", "offline")),
            None,
            c.get("availability_template"),
        )
        mode = str(c.get("availability_mode", "latest"))
        if mode not in ("all", "any", "latest"):
            raise InvalidPayload(f"unknown availability_mode {mode!r}")
        w["avail_mode"] = mode
        for name_, attr in list(attributes.items()):  # announced without a command topic: read-only
            if attr.writable and name_ not in w["cmd"]:
                attributes[name_] = Attribute(**{**attr.__dict__, "writable": False})
        group, group_name = device_key(c)
        return Device(
            f"ha:{unique}",
            Convention.HOME_ASSISTANT,
            kind,
            entity_name(c, unique),
            attributes,
            str(dev.get("manufacturer", "")),
            str(dev.get("model", "")),
            w,
            str(dev.get("suggested_area") or ""),
            str(c.get("device_class") or ""),
            group,
            group_name,
            str(c.get("entity_category") or ""),
        )


def _device_id(config: dict[str, Any], native: str) -> str:
    """The id a config claims, read before the rest (so a refusal can name it)."""
    unique = config.get("unique_id") or config.get("uniq_id") or native
    return f"ha:{unique if isinstance(unique, str | int) else native}"


def _object(payload: bytes) -> dict[str, Any]:
    data = loads(payload)
    if not isinstance(data, dict):
        raise InvalidPayload("a discovery config must be a JSON object")
    return data
