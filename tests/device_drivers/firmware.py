"""Fake firmware that behaves like the real thing on a real broker: Zigbee2MQTT (clamps to each expose's
range, reports the xy a bulb reached in its gamut and its colour mode), Tasmota (answers every command on
stat/RESULT, Dimmer 0-100, CT 153-500, a colour scaled by the dimmer) and ESPHome (JSON light, lower-case
cover states, fan speed levels, climate clamped to its range and step). Each echoes on its own topics.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers.color import rgb_to_xy, xy_to_rgb

Message = tuple[str, Any, bool]  # topic, payload (dict/list: JSON), retained
Handler = Callable[[bytes], list[Message]]
IKEA_GAMUT = ((0.68, 0.31), (0.11, 0.82), (0.13, 0.04))  # the corners of the CWS bulbs' colour triangle


def _payload(value: Any) -> bytes:
    return json.dumps(value).encode() if isinstance(value, dict | list) else str(value).encode()


def _clamp(value: float, low: float | None, high: float | None) -> float:
    return max(low if low is not None else value, min(high if high is not None else value, value))


def in_gamut(x: float, y: float, gamut: tuple[tuple[float, float], ...] = IKEA_GAMUT) -> tuple[float, float]:
    """Move a colour toward white until the bulb can show it, as a Zigbee bulb reports what it reached."""
    white = (0.3127, 0.329)

    def inside(px: float, py: float) -> bool:
        (ax, ay), (bx, by), (cx, cy) = gamut
        d1 = (px - bx) * (ay - by) - (ax - bx) * (py - by)
        d2 = (px - cx) * (by - cy) - (bx - cx) * (py - cy)
        d3 = (px - ax) * (cy - ay) - (cx - ax) * (py - ay)
        return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))

    t = 1.0
    while t > 0 and not inside(white[0] + (x - white[0]) * t, white[1] + (y - white[1]) * t):
        t -= 0.01
    return round(white[0] + (x - white[0]) * t, 4), round(white[1] + (y - white[1]) * t, 4)


class Firmware:
    """One MQTT client speaking for some devices: announcements, then command handlers."""

    def __init__(self, port: int, client_id: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.port = port
        self.handlers: dict[str, Callable[[bytes], list[Message]]] = {}
        self.received: list[tuple[str, bytes]] = []
        self.published: set[str] = set()  # the topics this firmware owns: it has published on them
        self.client.on_message = self._on_message
        self._ready = threading.Event()
        self.client.on_connect = lambda *a: self._ready.set()

    def announce(self) -> list[Message]:
        return []

    def report(self) -> list[Message]:
        """What the device says on its own now (Tasmota's teleperiod, a sensor's reading)."""
        return []

    def start(self) -> Firmware:
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        assert self._ready.wait(5)
        for topic in self.handlers:
            self.client.subscribe(topic, qos=1)
        self.send(self.announce())
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, messages: list[Message], *, wait: bool = True) -> None:
        """Publish; `wait=False` on paho's own thread, which must stay free to take the acknowledgements."""
        for topic, payload, retain in messages:
            self.published.add(topic)
            info = self.client.publish(topic, _payload(payload), qos=1, retain=retain)
            if wait:
                info.wait_for_publish(5)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.received.append((msg.topic, bytes(msg.payload)))
        handler = self.handlers.get(msg.topic)
        if handler is not None:
            self.send(handler(bytes(msg.payload)), wait=False)


class Zigbee2MQTTBridge(Firmware):
    """`bridge/devices` retained, each device's state on `zigbee2mqtt/<name>` (retained, as with `retain: true`)."""

    def __init__(self, port: int, entries: list[dict[str, Any]], states: dict[str, dict[str, Any]]) -> None:
        super().__init__(port, "zigbee2mqtt")
        self.entries, self.states = entries, states
        for entry in entries:
            name = entry["friendly_name"]
            self.handlers[f"zigbee2mqtt/{name}/set"] = partial(self._set_raw, entry)

    def announce(self) -> list[Message]:
        return [
            ("zigbee2mqtt/bridge/state", {"state": "online"}, True),
            ("zigbee2mqtt/bridge/devices", self.entries, True),
        ]

    def report(self) -> list[Message]:
        return [(f"zigbee2mqtt/{e['friendly_name']}", self.states[e["friendly_name"]], True) for e in self.entries]

    def _set_raw(self, entry: dict[str, Any], raw: bytes) -> list[Message]:
        return self._set(entry, json.loads(raw))

    def features(self, entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out = {}
        for expose in entry["definition"]["exposes"]:
            for feature in [expose, *expose.get("features", [])]:
                if "property" in feature:
                    out[feature["property"]] = feature
        return out

    def _set(self, entry: dict[str, Any], command: dict[str, Any]) -> list[Message]:
        name = entry["friendly_name"]
        state, features = self.states[name], self.features(entry)
        for key, value in command.items():
            feature = features.get(key)
            if feature is None or not feature.get("access", 0) & 2:
                continue  # Zigbee2MQTT ignores what the device does not take
            if key == "color":
                if "x" in value:
                    x, y = value["x"], value["y"]
                elif "h" in value or "hue" in value:
                    from device_drivers.color import hs_to_rgb

                    x, y = rgb_to_xy(
                        hs_to_rgb(value.get("h", value.get("hue")), value.get("s", value.get("saturation")))
                    )
                else:
                    x, y = rgb_to_xy([value["r"], value["g"], value["b"]])
                x, y = in_gamut(x, y)
                state["color"] = {"x": x, "y": y}
                state["color_mode"] = "xy"
            elif feature["type"] == "numeric":
                number = _clamp(float(value), feature.get("value_min"), feature.get("value_max"))
                step = feature.get("value_step")
                state[key] = round(number / step) * step if step else round(number)
                if key == "color_temp":
                    state["color_mode"] = "color_temp"
                if key == "position":
                    state["state"] = "OPEN" if state[key] > 0 else "CLOSE"
            elif feature["type"] == "enum" and value in feature["values"]:
                self._enum(state, key, value)
            elif feature["type"] == "binary" and value in (feature["value_on"], feature["value_off"]):
                state[key] = value
                if key == "state" and "lock_state" in state:
                    state["lock_state"] = "locked" if value == "LOCK" else "unlocked"
        return [(f"zigbee2mqtt/{name}", state, True)]

    def _enum(self, state: dict[str, Any], key: str, value: str) -> None:
        if key == "state" and value in ("OPEN", "CLOSE"):  # a blind moves all the way
            state["position"] = 100 if value == "OPEN" else 0
        state[key] = value if value != "STOP" else state[key]


class Tasmota(Firmware):
    """SetOption19 discovery: every value behind a template on stat/<topic>/RESULT; LWT on tele/<topic>/LWT."""

    def __init__(self, port: int, topic: str, configs: dict[str, dict[str, Any]], state: dict[str, Any]) -> None:
        super().__init__(port, topic)
        self.topic, self.configs, self.state = topic, configs, state
        for command in ("POWER", "POWER1", "POWER2", "Dimmer", "CT", "Color2"):
            self.handlers[f"cmnd/{topic}/{command}"] = partial(self._raw_command, command)

    def announce(self) -> list[Message]:
        return [(f"tele/{self.topic}/LWT", "Online", True), *((t, c, True) for t, c in self.configs.items())]

    def report(self) -> list[Message]:
        sensor = {k: v for k, v in self.state.items() if isinstance(v, dict)}
        messages = [(f"stat/{self.topic}/RESULT", self._light_state(), False)]
        if sensor:
            messages.append((f"tele/{self.topic}/SENSOR", {"Time": "2024-05-01T10:00:00", **sensor}, False))
        return messages

    def _light_state(self) -> dict[str, Any]:
        out = {k: v for k, v in self.state.items() if k.startswith("POWER")}
        if "Dimmer" in self.state:
            dim = self.state["Dimmer"] / 100
            rgb = [round(c * dim) for c in self.state["rgb"]] if self.state["mode"] == "rgb" else [0, 0, 0]
            white = [0, 0] if self.state["mode"] == "rgb" else [round(255 * dim)] * 2
            out.update(
                {"Dimmer": self.state["Dimmer"], "Color": ",".join(map(str, [*rgb, *white])), "CT": self.state["CT"]}
            )
        return out

    def _raw_command(self, command: str, raw: bytes) -> list[Message]:
        return self._command(command, raw.decode())

    def _command(self, command: str, raw: str) -> list[Message]:
        if command.startswith("POWER"):
            key = "POWER" if command == "POWER" and "POWER" in self.state else command
            self.state[key] = {"ON": "ON", "OFF": "OFF", "TOGGLE": "OFF" if self.state[key] == "ON" else "ON"}[raw]
            return [
                (f"stat/{self.topic}/RESULT", {key: self.state[key]}, False),
                (f"stat/{self.topic}/{key}", raw, False),
            ]
        if command == "Dimmer":
            self.state["Dimmer"] = int(_clamp(int(raw), 0, 100))
            self.state["POWER"] = "ON" if self.state["Dimmer"] else "OFF"
        elif command == "CT":
            self.state["CT"], self.state["mode"] = int(_clamp(int(raw), 153, 500)), "ct"
        elif command == "Color2":
            self.state["rgb"], self.state["mode"] = [int(c) for c in raw.split(",")][:3], "rgb"
        return [(f"stat/{self.topic}/RESULT", self._light_state(), False)]


class ESPHome(Firmware):
    """Retained state on `<node>/<component>/<object>/state`, commands on `.../command`, `<node>/status`."""

    def __init__(self, port: int, node: str, configs: dict[str, dict[str, Any]], states: dict[str, Any]) -> None:
        super().__init__(port, node)
        self.node, self.configs, self.states = node, configs, states
        for topic, config in configs.items():
            component, object_id = topic.split("/")[1], topic.split("/")[3]
            base = f"{node}/{component}/{object_id}"
            for key, apply in (
                ("cmd_t", self._command),
                ("pct_cmd_t", self._speed),
                ("set_pos_t", self._position),
                ("mode_cmd_t", self._mode),
                ("temp_cmd_t", self._target),
            ):
                if key in config:
                    self.handlers[config[key]] = partial(_decoded, apply, base, config)

    def announce(self) -> list[Message]:
        return [(f"{self.node}/status", "online", True), *((t, c, True) for t, c in self.configs.items())]

    def report(self) -> list[Message]:
        return [(topic, value, True) for topic, value in self.states.items()]

    def _put(self, topic: str, value: Any) -> list[Message]:
        self.states[topic] = value
        return [(topic, value, True)]

    def _command(self, base: str, config: dict[str, Any], raw: str) -> list[Message]:
        if config.get("schema") == "json":
            return self._light(base, config, json.loads(raw))
        if "/cover/" in base:
            position = {"OPEN": 100, "CLOSE": 0}.get(raw)
            if position is None:
                return []
            return [
                *self._put(f"{base}/state", "open" if position else "closed"),
                *self._put(f"{base}/position/state", str(position)),
            ]
        if "/lock/" in base:
            return self._put(f"{base}/state", {"LOCK": "LOCKED", "UNLOCK": "UNLOCKED"}[raw])
        return self._put(f"{base}/state", raw)

    def _light(self, base: str, config: dict[str, Any], command: dict[str, Any]) -> list[Message]:
        state = dict(self.states[f"{base}/state"])
        state["state"] = command.get("state", state["state"])
        if "brightness" in command:
            state["brightness"] = int(_clamp(command["brightness"], 0, 255))
        if "color" in command:
            state["color"], state["color_mode"] = {k: int(command["color"][k]) for k in "rgb"}, "rgb"
        if "color_temp" in command:
            state["color_temp"] = int(_clamp(command["color_temp"], config["min_mirs"], config["max_mirs"]))
            state["color_mode"] = "color_temp"
        return self._put(f"{base}/state", state)

    def _speed(self, base: str, config: dict[str, Any], raw: str) -> list[Message]:
        level = int(_clamp(int(raw), 0, config["spd_rng_max"]))
        return [
            *self._put(f"{base}/state", "ON" if level else "OFF"),
            *self._put(f"{base}/speed_level/state", str(level)),
        ]

    def _position(self, base: str, config: dict[str, Any], raw: str) -> list[Message]:
        position = int(_clamp(int(raw), 0, 100))
        return [
            *self._put(f"{base}/position/state", str(position)),
            *self._put(f"{base}/state", "open" if position else "closed"),
        ]

    def _mode(self, base: str, config: dict[str, Any], raw: str) -> list[Message]:
        return self._put(f"{base}/mode/state", raw) if raw in config["modes"] else []

    def _target(self, base: str, config: dict[str, Any], raw: str) -> list[Message]:
        step = config.get("temp_step", 0.5)
        target = round(_clamp(float(raw), config["min_temp"], config["max_temp"]) / step) * step
        return self._put(f"{base}/target_temperature/state", f"{target:.1f}")


def _decoded(
    apply: Callable[[str, dict[str, Any], str], list[Message]], base: str, config: dict[str, Any], raw: bytes
) -> list[Message]:
    return apply(base, config, raw.decode())


def xy_colour(x: float, y: float) -> list[int]:
    return xy_to_rgb(x, y)
