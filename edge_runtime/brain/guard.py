"""What the small LLM may touch: only what the sentence itself supports.

The verb and the nouns fix the kinds and attributes a call may use: "lock"/"unlock" only locks,
"open"/"close" only covers and valves, brightness only lights, degrees only thermostats. Media, scenes,
vacuums, questions and requests for later are never an LLM's device action: a scene is activated and a
vacuum started only by their own sentences (the local intents). A sentence that names a kind the
room does not have gets "There is no lock in the Kitchen", and nothing is sent. When in doubt,
the guard declines: a wrong action is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from edge_runtime.brain.replies import say
from edge_runtime.devices.registry import DeviceRecord

_MEDIA = re.compile(
    r"\b(?:play|playing|pause|resume|skip|next (?:song|track|episode)|previous|rewind|fast forward|volume|mute|"
    r"unmute|louder|quieter|songs?|tracks?|music|album|playlist|podcast|radio|episode|movie|tv show|netflix|"
    r"spotify|youtube)\b"
)
_SCRIPT = re.compile(r"\b(?:routines?|scripts?|automations?)\b")
_SCENE = re.compile(
    r"\b(?:scenes?|(?:party|movie|night|away|vacation|holiday|dinner|romantic|relax|reading|cinema|sleep|guest) "
    r"mode)\b"
)
# A vacuum moves only by its own sentences ("start the vacuum", "send the vacuum home"), never by the LLM.
_VACUUM = re.compile(r"\b(?:vacuum(?:s|ing)?|hoover|robot cleaner|roomba|mop)\b")
_LATER = re.compile(
    r"\b(?:in|after|for) (?:\d+(?:[./]\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|half an?|a few|a couple of) ?(?:and a half )?(?:seconds?|secs?|minutes?|mins?|"
    r"hours?|hrs?)\b|\bat \d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)?\b|\b(?:tonight|tomorrow|later|"
    r"this (?:evening|afternoon|morning)|every (?:day|night|morning|evening)|at (?:noon|midnight|sunset|sunrise)|"
    r"when i (?:leave|arrive|get home|go to bed))\b"
)
_QUESTION = re.compile(
    r"^(?:is|are|was|were|do|does|did|which|what|what's|how|who|where|when|why|whether)\b|"
    r"\b(?:tell me|let me know|check|do you know) (?:if|whether)\b|\?\s*$"
)
# Verbs and words -> (kinds, attributes) a call may use.
_FITS: list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]] = [
    (re.compile(r"\b(?:un)?lock(?:ed|s|ing)?\b|\bdeadbolt\b"), frozenset({"lock"}), frozenset({"locked"})),
    (
        re.compile(r"\b(?:open|opened|close|closed|shut|raise|lower)\b"),
        frozenset({"cover", "valve"}),
        frozenset({"state", "position"}),
    ),
    (
        re.compile(r"\b(?:dim|dimmer|brighten|brighter|brightness|bright|dark|darker|gloomy)\b"),
        frozenset({"light"}),
        frozenset({"on", "brightness"}),
    ),
    (
        re.compile(r"\b(?:degrees?|temperature|warmer|cooler|heating|heat|freezing|cold|chilly|hot|thermostat)\b|°"),
        frozenset({"climate"}),
        frozenset({"target_temperature", "mode"}),
    ),
    (re.compile(r"\b(?:speed|faster|slower)\b"), frozenset({"fan"}), frozenset({"percentage", "on"})),
    (
        re.compile(r"\b(?:colou?r|red|green|blue|yellow|orange|purple|pink|white)\b"),
        frozenset({"light"}),
        frozenset({"rgb", "on"}),
    ),
]
_ON_OFF = (frozenset({"light", "switch", "fan"}), frozenset({"on"}))
# Nouns that name a kind ("the lamp", "the plug"); "door" may be a lock or a cover.
_NOUNS: list[tuple[re.Pattern[str], frozenset[str]]] = [
    (re.compile(r"\b(?:lights?|lamps?|bulbs?|spotlights?|lighting)\b"), frozenset({"light"})),
    (re.compile(r"\bfans?\b"), frozenset({"fan"})),
    (re.compile(r"\b(?:switch(?:es)?|plugs?|outlets?|sockets?)\b"), frozenset({"switch"})),
    (
        re.compile(r"\b(?:blinds?|curtains?|shades?|shutters?|awnings?|garage doors?|gates?|covers?)\b"),
        frozenset({"cover"}),
    ),
    (re.compile(r"\b(?:locks?|deadbolts?)\b"), frozenset({"lock"})),
    (re.compile(r"\b(?:valves?|taps?|spigots?|sprinklers?|irrigation)\b"), frozenset({"valve"})),
    (re.compile(r"\bdoors?\b"), frozenset({"lock", "cover"})),
    (re.compile(r"\b(?:thermostats?|heaters?|radiators?|heating|ac|air conditioning)\b"), frozenset({"climate"})),
]


@dataclass
class Verdict:
    """What a tool call may do, or why it may do nothing (`refusal`: a stable code)."""

    kinds: frozenset[str] = frozenset()
    attributes: frozenset[str] = frozenset()
    refusal: str | None = None
    named_kinds: frozenset[str] = field(default_factory=frozenset)

    def allows(self, rec: DeviceRecord, attribute: str) -> bool:
        return self.refusal is None and rec.device.kind.value in self.kinds and attribute in self.attributes


def judge(text: str, names: Iterable[str] = ()) -> Verdict:
    """`names`: the home's device names; their words are not verbs ("the Towel Warmer" is no heater)."""
    said = " ".join(text.lower().split())
    lowered = f" {said} "
    for name in sorted({n.lower() for n in names}, key=len, reverse=True):
        if f" {name} " in lowered:
            lowered = lowered.replace(f" {name} ", " the device ")
    lowered = lowered.strip()
    if _QUESTION.search(lowered):
        return Verdict(refusal="QUESTION")
    if _MEDIA.search(lowered):
        return Verdict(refusal="MEDIA_UNSUPPORTED")
    if _SCRIPT.search(lowered):
        return Verdict(refusal="SCENE_UNSUPPORTED")
    if _SCENE.search(lowered):  # a scene is activated by its own name only (the local intent), never guessed
        return Verdict(refusal="SCENE_ONLY")
    if _VACUUM.search(said):  # before names too: "vacuum the kitchen" with a device called "Vacuum"
        return Verdict(refusal="VACUUM_ONLY")
    if _LATER.search(lowered):
        return Verdict(refusal="NOT_NOW")
    fits = [(kinds, attrs) for pattern, kinds, attrs in _FITS if pattern.search(lowered)]
    named = frozenset().union(*(kinds for pattern, kinds in _NOUNS if pattern.search(lowered)))
    if len(fits) > 1:  # "lock ... brighter": two verbs for two kinds, too unsure to act
        kinds = frozenset.intersection(*(k for k, _ in fits))
        attrs = frozenset.intersection(*(a for _, a in fits))
        if not kinds:
            return Verdict(refusal="UNSURE")
    elif fits:
        kinds, attrs = fits[0]
    else:
        kinds, attrs = _ON_OFF
    if named:
        kinds &= named
        if not kinds:
            return Verdict(refusal="KIND_MISMATCH", named_kinds=named)
    if "percent" in lowered or "%" in lowered:
        attrs |= {"brightness", "position", "percentage"}
    return Verdict(kinds, attrs, named_kinds=named)


def fitting(candidates: Iterable[DeviceRecord], verdict: Verdict) -> list[DeviceRecord]:
    """The candidates the call may touch: of an allowed kind, with an allowed writable attribute."""
    return [
        r
        for r in candidates
        if r.device.kind.value in verdict.kinds
        and any(a.writable and n in verdict.attributes for n, a in r.device.attributes.items())
    ]


def places_in(text: str, records: Iterable[DeviceRecord]) -> list[str]:
    """The rooms the sentence names, longest first ("living room" before "room")."""
    padded = f" {' '.join(re.findall(r'[a-z0-9äöüß]+', text.lower()))} "
    areas = {r.area for r in records if r.area}
    return [a for a in sorted(areas, key=len, reverse=True) if f" {a.lower()} " in padded]


# Refusals that concern one kind: the sentence is about it, but not one of its own sentences.
KIND_ONLY = {"SCENE_ONLY": "scene", "VACUUM_ONLY": "vacuum"}


def refusal_reply(code: str, text: str, records: Iterable[DeviceRecord], language: str) -> str | None:
    """The honest answer to a refused sentence ("There is no scene in the Kitchen"), or None to pass it on."""
    if code == "MEDIA_UNSUPPORTED":
        return say(language, "cannot_media")
    if code == "SCENE_UNSUPPORTED":
        return say(language, "cannot_kind", kind="routine")
    kind = KIND_ONLY.get(code)
    if kind is None:
        return None
    records = list(records)
    places = places_in(text, records)
    of_kind = [r for r in records if r.device.kind.value == kind]
    if places and kind == "scene" and not any(r.area == places[0] for r in of_kind):
        return say(language, "no_kind_in_area", kind=kind, area=places[0])
    return say(language, "no_kind" if not of_kind else "not_sure", kind=kind)
