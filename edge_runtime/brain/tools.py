"""Device commands the grammar missed ("it's too dark in the kitchen"), as an LLM tool call.

The JSON schema is built from the registry at call time: `device` and `attribute` are enums of
the devices the sentence itself names (by name, alias, room or floor), so the model can neither
invent a device nor touch one the user did not mention. Every call is validated before acting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from device_drivers import InvalidCommand
from edge_runtime.brain.guard import Verdict, judge
from edge_runtime.brain.intents import Action
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from models.llm import LLM

SYSTEM = (
    "You turn a request into one smart-home command as JSON. 'on' and 'locked' are true or false; "
    "brightness, position and percentage are 0-100; target_temperature is in degrees Celsius; "
    "state is open or close."
)
EXAMPLES = [
    ("I'm done with the desk lamp", {"device": "desk lamp", "attribute": "on", "value": False}),
    ("the study is freezing", {"device": "study radiator", "attribute": "target_temperature", "value": 22}),
    ("it's too dark in the hallway", {"device": "hallway light", "attribute": "on", "value": True}),
]


@dataclass
class ToolCall:
    raw: dict[str, Any]
    action: Action | None
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.action is not None


def _words(text: str) -> list[str]:
    return re.findall(r"[\wäöüß]+", text.lower())


def grounded(text: str, registry: DeviceRegistry, also: list[str] | None = None) -> list[DeviceRecord]:
    """Devices the sentence names: a name or alias, or a room or floor they are in (fuzzily)."""
    words = _words(text)
    grams = {" ".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
    grams = {g for g in grams if len(g) >= 4}

    present = set(words)

    def said(phrase: str | None) -> bool:
        """In the sentence as it is, spelled nearly so, or word by word ("the fan in the bedroom")."""
        if not phrase:
            return False
        phrase = phrase.lower()
        return phrase in grams or set(_words(phrase)) <= present or any(fuzz.ratio(phrase, g) >= 85 for g in grams)

    out = [r for r in registry.spoken() if any(said(n) for n in r.names()) or said(r.area) or said(r.floor)]
    if not out and also:
        out = [registry.records[i] for i in also if i in registry.records]
    return [r for r in out if any(a.writable for a in r.device.attributes.values())]


def schema(candidates: list[DeviceRecord], allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """`allowed`: the attributes the sentence supports (guard.py); the model may pick no other."""
    attributes = sorted(
        {
            n
            for r in candidates
            for n, a in r.device.attributes.items()
            if a.writable and (allowed is None or n in allowed)
        }
    )
    return {
        "type": "object",
        "properties": {
            "device": {"enum": [r.name.lower() for r in candidates]},
            "attribute": {"enum": attributes},
            "value": {"type": ["boolean", "integer", "string"]},
        },
        "required": ["device", "attribute", "value"],
    }


_DEGREES = re.compile(r"\b(?:degrees?|grad|celsius)\b|°")
_PERCENT = re.compile(r"\b(?:percent|prozent)\b|%")
_ON = re.compile(r"\b(?:on|start|going|running|power up|ein|an)\b")
_OFF = re.compile(r"\b(?:off|stop|kill|done with|shut|aus)\b")
# On or off said without the words: "it's too dark in the garage" wants light, "too bright" less of it.
_IMPLIED_ON = re.compile(
    r"\b(?:too dark|(?:a bit|so|very|quite|really|pretty) dark|pitch black|gloomy|can't see|air moving|some air|"
    r"stuffy|zu dunkel)\b"
)
_IMPLIED_OFF = re.compile(r"\b(?:too bright|blinding|hurting my eyes|hurts my eyes|zu hell)\b")
# A change relative to now ("faster", "a bit dimmer"): never an on/off switch, never a model's guess.
_UP = re.compile(r"\b(?:brighter|brighten|faster|warmer|hotter|higher|stronger|more|up|increase)\b")
_DOWN = re.compile(r"\b(?:dimmer|darker|slower|cooler|colder|lower|weaker|less|down|decrease|reduce)\b")
_AMOUNT = re.compile(
    r"\d|\b(?:percent|prozent|degrees?|half|full|max(?:imum)?|min(?:imum)?|two|three|four|five|six|seven|"
    r"eight|nine|ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\b"
)
# What a relative request steps, and by how much when the device does not say (HA has no relative
# intents: this is our own deterministic rule, the model has no part in it).
STEPPED = {"brightness": 25.0, "percentage": 25.0, "target_temperature": 1.0}


def polarity(text: str) -> bool | None:
    """On or off, when the sentence says so unambiguously."""
    lowered = text.lower()
    on, off = bool(_ON.search(lowered)), bool(_OFF.search(lowered))
    return on if on != off else None


def implied(text: str) -> bool | None:
    """On or off as the sentence says it, in words or by what it complains of ("too dark")."""
    if (said := polarity(text)) is not None or relative(text) is not None:
        return said
    lowered = text.lower()
    on, off = bool(_IMPLIED_ON.search(lowered)), bool(_IMPLIED_OFF.search(lowered))
    return on if on != off else None


def relative(text: str) -> bool | None:
    """Up (True) or down (False) for "make it go faster", "a bit dimmer"; None for anything that
    says on/off or names an amount ("dim it to 30 percent"), or says both ways."""
    lowered = text.lower()
    if polarity(lowered) is not None or _AMOUNT.search(lowered):
        return None
    up, down = bool(_UP.search(lowered)), bool(_DOWN.search(lowered))
    return up if up != down else None


def stepped(rec: DeviceRecord, up: bool, allowed: frozenset[str] | None = None) -> dict[str, Any] | None:
    """The one value a relative request changes on `rec`: its brightness, fan speed or set
    temperature one step from where it is now, held to its range (a light is dimmed, never switched
    off); None when the device has nothing of that to step."""
    for name, default_step in STEPPED.items():
        attr = rec.device.attributes.get(name)
        if attr is None or not attr.writable or (allowed is not None and name not in allowed):
            continue
        step = max(float(attr.step or 0), default_step)
        if name == "target_temperature":
            now = float(rec.state.get(name, 20.0))
        else:
            now = float(rec.state.get(name, 100 if rec.state.get("on") else 0))
        low = max(1.0, float(attr.min or 0)) if name == "brightness" else float(attr.min or 0)  # dim, never off
        high = float(attr.max if attr.max is not None else 100)
        new = min(high, max(low, now + (step if up else -step)))
        return {name: round(new, 1) if attr.type == "float" else round(new)}
    return None


def contradicts(text: str, attribute: str, value: Any) -> bool:
    """A call the sentence itself rules out: "to 23 degrees" is never a light switched on."""
    lowered = text.lower()
    wrong_degrees = bool(_DEGREES.search(lowered)) and attribute != "target_temperature"
    wrong_percent = bool(_PERCENT.search(lowered)) and attribute not in ("brightness", "position", "percentage")
    return wrong_degrees or wrong_percent


def validate(
    raw: dict[str, Any], candidates: list[DeviceRecord], text: str = "", verdict: Verdict | None = None
) -> ToolCall:
    """The call as an action, or why it cannot be one. Nothing is sent for an invalid call."""
    by_name = {r.name.lower(): r for r in candidates}
    rec = by_name.get(str(raw.get("device", "")).lower())
    if rec is None:
        return ToolCall(raw, None, "UNKNOWN_DEVICE")
    attr = rec.device.attributes.get(str(raw.get("attribute", "")))
    if attr is None or not attr.writable:
        return ToolCall(raw, None, "UNKNOWN_ATTRIBUTE")
    verdict = verdict or (judge(text) if text else None)  # no sentence: nothing to hold the call to
    if verdict is not None and not verdict.allows(rec, attr.name):
        return ToolCall(raw, None, verdict.refusal or "DOES_NOT_FIT_REQUEST")
    value = raw.get("value")
    if attr.name == "on" and text:
        # The sentence decides on or off; the model only picks the device. A sentence that says
        # neither ("make it go faster", "can you make it dimmer") switches nothing.
        if (said := implied(text)) is None:
            return ToolCall(raw, None, "CONTRADICTS_REQUEST" if contradicts(text, "on", value) else "ON_OFF_NOT_SAID")
        value = said
    try:
        value = attr.validate(value)
    except InvalidCommand:
        return ToolCall(raw, None, "INVALID_VALUE")
    if text and contradicts(text, attr.name, value):
        return ToolCall(raw, None, "CONTRADICTS_REQUEST")
    return ToolCall(raw, Action(rec.id, rec.name, {attr.name: value}, rec.device.kind.value))


def call_tool(llm: LLM, text: str, candidates: list[DeviceRecord], verdict: Verdict | None = None) -> ToolCall:
    messages = [{"role": "system", "content": SYSTEM}]
    for question, answer in EXAMPLES:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": json.dumps(answer)}]
    messages.append({"role": "user", "content": text})
    verdict = verdict or judge(text)
    return validate(llm.call_json(messages, schema(candidates, verdict.attributes)), candidates, text, verdict)
