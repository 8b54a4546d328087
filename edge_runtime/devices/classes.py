"""What a device is for safety: lock | garage | alarm | its kind. The brain asks before an action on a
confirmation class; the device layer lets only a device of that class command that class's topics."""

from __future__ import annotations

from collections.abc import Iterable

from device_drivers import Device, Kind

CONFIRM_CLASSES = frozenset({"lock", "garage", "alarm"})


def safety_class(device: Device, names: Iterable[str] = ()) -> str:
    """A cover is a garage door by its class or its name; anything called an alarm is one."""
    kind = device.kind
    text = " ".join([device.name, *names]).lower()
    if kind is Kind.LOCK:
        return "lock"
    if kind is Kind.COVER and (device.device_class in ("garage", "gate") or "garage" in text):
        return "garage"
    if device.device_class == "alarm" or "alarm" in text:
        return "alarm"
    return kind.value


# What a binary sensor's "on" means, by Home Assistant's device class: a door is open, not "on".
STATE_WORDS = {
    "door": ("open", "closed"),
    "window": ("open", "closed"),
    "garage_door": ("open", "closed"),
    "opening": ("open", "closed"),
    "motion": ("motion", "clear"),
    "occupancy": ("occupied", "clear"),
    "presence": ("home", "away"),
    "moisture": ("wet", "dry"),
    "smoke": ("smoke", "clear"),
    "gas": ("gas", "clear"),
    "battery": ("low", "normal"),
    "lock": ("unlocked", "locked"),
    "plug": ("plugged in", "unplugged"),
    "connectivity": ("connected", "disconnected"),
    "vibration": ("vibrating", "still"),
    "tamper": ("tampered", "ok"),
    "problem": ("problem", "ok"),
    "carbon_monoxide": ("detected", "clear"),
    "light": ("light", "dark"),
}


def state_text(device: Device, state: dict[str, object]) -> str:
    """One line a person reads: "open", "21.3 °C", "on=True, brightness=40 %"."""
    if device.kind is Kind.BINARY_SENSOR and isinstance(state.get("on"), bool):
        words = STATE_WORDS.get(device.device_class, ("on", "off"))
        return words[0] if state["on"] else words[1]
    parts = []
    for name, value in state.items():
        attr = device.attributes.get(name)
        unit = f" {attr.unit}" if attr is not None and attr.unit else ""
        parts.append(f"{value}{unit}" if name == "value" else f"{name}={value}{unit}")
    return ", ".join(parts)
