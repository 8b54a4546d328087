"""What else people call a device or a floor, beyond the names the user gave: the words the intent
engine adds to its slot lists.

- **Floors** by their everyday words, as a Home Assistant user would give a floor aliases: a floor
  named "Ground Floor" is also "downstairs", one named "Upstairs" also "the upper floor". A word is
  added only when exactly one floor fits it and no floor or room is called that already.
- **Head nouns:** a plug or a switch is named for what is plugged into it ("TV Plug", "Printer
  Plug", "Coffee Maker"), and people say what is plugged in ("turn on the tv"). Home Assistant would
  not understand that; the hub does only when it cannot be wrong: the name's last word is a word for
  the socket or the appliance, the rest names exactly one device and nothing else in the home (no other
  device, room or floor, no kind word), and the device is a light, a switch or a fan that needs no
  confirmation (never a lock, a cover, a garage door or an alarm).
- **Names that begin with their room:** "Kitchen Spotlights" in the Kitchen is "the spotlights", on
  the same terms (one device, no kind word alone: "Kitchen Light" is not "the light").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from device_drivers import Kind
from edge_runtime.devices.classes import safety_class
from edge_runtime.devices.record import DeviceRecord

FLOOR_WORDS = (
    frozenset({"ground floor", "ground level", "downstairs", "main floor", "lower floor"}),
    frozenset({"upstairs", "upper floor", "upper level"}),
    frozenset({"basement", "cellar", "lower ground floor"}),
    frozenset({"attic", "loft"}),
)
# The last word of a name that says what the device is, not what it runs: "TV Plug" is the tv.
SOCKET_WORDS = frozenset({"plug", "socket", "outlet", "power", "relay", "switch"})
# Appliance words said for one another: a "Coffee Maker" is the "coffee machine".
APPLIANCE_WORDS = frozenset({"maker", "machine"})
HEAD_KINDS = frozenset({Kind.LIGHT, Kind.SWITCH, Kind.FAN})
# A stem that is itself a kind of device is no name: "Light Switch" is not "the light".
KIND_WORDS = frozenset(
    [
        "light",
        "lights",
        "lamp",
        "lamps",
        "fan",
        "fans",
        "switch",
        "plug",
        "socket",
        "outlet",
        "door",
        "lock",
        "blind",
        "blinds",
        "cover",
        "thermostat",
        "heater",
        "heating",
        "alarm",
        "sensor",
        "all",
        "everything",
    ]
)

PRONOUNS = {"it", "them", "that", "those", "these", "this", "everything"}
# Not a device: "is it cold outside" asks about the weather, which a home without an outdoor sensor
# leaves to the cloud instead of "I don't know a device called outside".
OUTDOORS = {"outside", "outdoors", "out", "out there", "the weather", "weather"}
# Not a name or a room either: a question, a refusal or an exception read into their place ("why is the
# kitchen light on", "I don't want the lamp on", "the lights but not the lamp"). Saying "I don't know a
# device called why is the kitchen" would be wrong; such a sentence goes on as one not understood.
NOT_A_NAME = re.compile(
    r"^(?:why|how|what|who|when|where|which|is|are|do|does|did|should|i|we|don'?t|do not|never)\b"
    r"|\b(?:but|except|not|don'?t|no)\b"
)


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def floor_words(floors: Iterable[str], areas: Iterable[str]) -> list[tuple[str, str]]:
    """(word, floor) for each everyday word that means exactly one of the home's floors."""
    floors = sorted(set(floors))
    taken = {_norm(f) for f in floors} | {_norm(a) for a in areas}
    out: list[tuple[str, str]] = []
    for group in FLOOR_WORDS:
        fits = [f for f in floors if _norm(f) in group]
        if len(fits) != 1:
            continue
        out.extend((word, fits[0]) for word in sorted(group - taken))
    return out


def head_nouns(records: Iterable[DeviceRecord], places: Iterable[str]) -> list[tuple[str, DeviceRecord]]:
    """(spoken words, device) for the names a plug or an appliance may be called by what it runs."""
    records = list(records)
    taken = {_norm(n) for r in records for n in r.names()} | {_norm(p) for p in places}
    offered: dict[str, DeviceRecord] = {}
    counts: Counter[str] = Counter()
    for rec in records:
        if rec.device.kind not in HEAD_KINDS or safety_class(rec.device, rec.names()) != rec.device.kind.value:
            continue
        said: set[str] = set()
        area = _norm(rec.area)
        for name in rec.names():
            if area and _norm(name).startswith(area + " ") and (rest := _norm(name)[len(area) + 1 :]) not in KIND_WORDS:
                said.add(rest)  # "Kitchen Spotlights" in the Kitchen: "the spotlights"
            *stem, last = _norm(name).split() or [""]
            head = " ".join(stem)
            if not stem or head in KIND_WORDS:
                continue
            if last in SOCKET_WORDS:
                said.add(head)
            elif last in APPLIANCE_WORDS:
                said |= {f"{head} {word}" for word in APPLIANCE_WORDS if word != last}
        for words in said - taken:
            counts[words] += 1
            offered[words] = rec
    return [(words, rec) for words, rec in sorted(offered.items()) if counts[words] == 1]
