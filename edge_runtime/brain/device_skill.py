"""Device commands and questions: intents -> targets -> confirmed actions or an answer -> a reply."""

from __future__ import annotations

import asyncio
import re
import time

from edge_runtime.brain.answers import Answers
from edge_runtime.brain.guard import KIND_ONLY, judge, refusal_reply
from edge_runtime.brain.intents import BUILTIN_INTENTS, Action, IntentEngine, IntentMatch
from edge_runtime.brain.planner import Planner
from edge_runtime.brain.replies import say
from edge_runtime.brain.spoken import NOT_A_NAME, OUTDOORS, PRONOUNS
from edge_runtime.brain.targets import norm
from edge_runtime.brain.vocab import (
    DEVICE_INTENTS,
    KIND_NOUNS,
    MEDIA_INTENTS,
    NAMED_WHITES,
    UNSUPPORTED_DOMAINS,
    UNSUPPORTED_INTENTS,
)
from edge_runtime.devices.errors import DeviceError
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.skills.builtin import SkillResult

BUILTIN = BUILTIN_INTENTS  # kept for callers of the first version
SPLIT = re.compile(r"\s*(?:,\s*)?\b(?:and then|and|then|und dann|und|dann)\b\s*|\s*;\s*", re.IGNORECASE)
VERBS = {
    "HassTurnOn": "turned_on",
    "HassTurnOff": "turned_off",
    "HassLightSet": "set",
    "HassClimateSetTemperature": "set",
    "HassSetPosition": "moved",
    "HassFanSetSpeed": "set",
    "HassVacuumStart": "started",
    "HassVacuumReturnToBase": "sent_home",
}
KIND_VERBS = {
    ("HassTurnOn", "lock"): "locked",
    ("HassTurnOff", "lock"): "unlocked",
    ("HassTurnOn", "cover"): "opened",
    ("HassTurnOff", "cover"): "closed",
    ("HassTurnOn", "valve"): "opened",
    ("HassTurnOff", "valve"): "closed",
    ("HassTurnOn", "scene"): "activated",
    ("HassTurnOn", "button"): "pressed",
    ("HassTurnOn", "vacuum"): "started",
    ("HassTurnOff", "vacuum"): "stopped",
}

ALARM_VERBS = {"HassTurnOn": "armed", "HassTurnOff": "disarmed"}  # "arm the alarm" (templates_en.yaml)


class DeviceSkill:
    def __init__(self, devices: DeviceHub, engine: IntentEngine | None = None, *, language: str = "en") -> None:
        self.devices = devices
        self.engine = engine or IntentEngine(devices.registry, language)
        self.language = self.engine.language
        self.planner = Planner(devices.registry, self.language)
        self.answers = Answers(self.language)

    def recognize(self, text: str) -> IntentMatch | None:
        """One sentence, recognised and planned over the registry."""
        match = self.engine.recognize(text)
        if match is not None and (match.intent in DEVICE_INTENTS or _declined(match)):
            return self.planner.plan(match)
        return match

    def match(self, text: str) -> list[IntentMatch] | None:
        """One match, or several when every part of "... and ..." is a device command. Parts are
        tried first: a whole sentence with "and" in it rarely matches, and failing costs most."""
        parts = _carry_verbs([p for p in SPLIT.split(text) if p.strip()])
        if len(parts) >= 2:
            matches: list[IntentMatch] = []
            for part in parts:  # the first part that is no command ends it: "turn on each and every light"
                found = self.recognize(part)
                if found is None or found.intent not in DEVICE_INTENTS or found.query or not found.actions:
                    break
                matches.append(found)
            else:
                return matches
        match = self.recognize(text)
        return [match] if match is not None else None

    def explain(self, text: str) -> IntentMatch | None:
        """A device sentence that names nothing in the home: say so, as Home Assistant would
        ("There is no lock in the Kitchen"), when the verb fixes the kind or a room was named."""
        refusal = judge(text, self.engine.vocabulary()).refusal
        if refusal == "MEDIA_UNSUPPORTED":
            return self.planner.decline(IntentMatch("HassMediaSearchAndPlay", {}), refusal, "cannot_media")
        if refusal in ("SCENE_UNSUPPORTED", *KIND_ONLY):  # no scene or vacuum sentence of its own matched
            declined = IntentMatch(
                "HassTurnOn", {}, problem="KIND_UNSUPPORTED" if refusal == "SCENE_UNSUPPORTED" else "NO_KIND"
            )
            declined.reply = refusal_reply(refusal, text, self.engine.registry.spoken(), self.language)
            return declined
        found = self.engine.recognize_unmatched(text)
        if found is None:
            return None
        match, missing = found
        if match.intent in MEDIA_INTENTS:
            return self.planner.decline(match, "MEDIA_UNSUPPORTED", "cannot_media")
        unknown = missing.get("name", "").strip()
        if unknown in PRONOUNS | OUTDOORS or any(NOT_A_NAME.search(words.lower()) for words in missing.values()):
            return None  # "set it to 20 percent": the conversation knows what "it" is
        domains = [d for d in match.domains if d]
        area = match.slots.get("area") or self._area_in(missing.get("name", ""))
        specific = len(domains) == 1
        if set(missing) == {"area"} and specific and domains[0] not in UNSUPPORTED_DOMAINS | {"scene", "button"}:
            return self._no_such(match, missing["area"], domains[0], text)
        if not (specific or (area and "area" not in match.implied)) or "area" in missing or "floor" in missing:
            return None
        if specific and domains[0] in UNSUPPORTED_DOMAINS | {"scene", "button"}:
            return None  # a scene or a button only when the words say so (above)
        records = self.engine.registry.spoken()
        here = [r for r in records if r.device.kind.value in domains and (not area or norm(r.area) == norm(area))]
        name = missing.get("name", "").strip()
        known = next((r for r in records if norm(name) in {norm(n) for n in r.names()}), None)
        if known is not None:  # "put the front door on 50 percent": the device is there, not that ability
            match.problem, match.reply = "NOT_SUPPORTED", say(self.language, "unsure_device", name=known.name)
            return match
        match.problem = "NO_KIND_IN_AREA" if area and not here else "NO_NAME"
        if area and not here:
            match.reply = say(
                self.language,
                "no_kind_in_area",
                kind=KIND_NOUNS.get(domains[0], "device") if specific else "device like that",
                area=area,
            )
        else:
            match.reply = say(self.language, "no_name", name=name)
        return match

    def _no_such(self, match: IntentMatch, words: str, domain: str, text: str) -> IntentMatch:
        """ "turn on the extractor fan" (read as a room and a kind): a device the home lacks, said so
        rather than asked of the cloud; "... in the garden" is a room it lacks."""
        if re.search(rf"\bin (?:the )?{re.escape(words)}\b", text.lower()):
            match.problem, match.reply = "NO_AREA", say(self.language, "no_area", area=words)
        else:
            kind = KIND_NOUNS.get(domain, domain)
            match.problem, match.reply = "NO_NAME", say(self.language, "no_name", name=f"{words} {kind}")
        return match

    def _area_in(self, words: str) -> str | None:
        padded = f" {norm(words)} "
        areas = {r.area for r in self.engine.registry.spoken() if r.area}
        return next((a for a in sorted(areas, key=len, reverse=True) if f" {norm(a)} " in padded), None)

    async def handle(self, text: str) -> SkillResult | None:
        """The whole local path in one call (no conversation, no confirmations)."""
        matches = self.match(text)
        if matches is None and (explained := self.explain(text)) is not None:
            matches = [explained]
        if matches is None or matches[0].intent in BUILTIN_INTENTS:
            return None
        first = matches[0]
        if first.reply is not None:
            return SkillResult("device-none", first.reply, {"intent": first.intent, "problem": first.problem})
        if not first.supported:
            return None
        if first.query:
            return self.answer(first)
        if not any(m.actions for m in matches):
            return self.nothing(first)
        return await self.act(matches)

    def nothing(self, match: IntentMatch) -> SkillResult:
        reply = match.reply or say(self.language, "no_device")
        return SkillResult("device-none", reply, {"intent": match.intent, "problem": match.problem or "NO_DEVICE"})

    async def act(self, matches: list[IntentMatch]) -> SkillResult:
        started = time.perf_counter()
        planned = [(m, a) for m in matches for a in m.actions]
        outcomes = await asyncio.gather(
            *(self.devices.set(a.device_id, a.values) for _, a in planned), return_exceptions=True
        )
        replies = []
        for match in matches:
            results = [(a, o) for (m, a), o in zip(planned, outcomes, strict=True) if m is match]
            done = [a for a, o in results if not isinstance(o, BaseException)]
            failed = [(a, o) for a, o in results if isinstance(o, BaseException)]
            replies.append(self._reply(match, done, failed))
        records = [
            _record(a, None if not isinstance(o, BaseException) else o)
            for (_, a), o in zip(planned, outcomes, strict=True)
        ]
        data = {
            "intent": "+".join(m.intent for m in matches),
            "intent_ms": round(sum(m.ms for m in matches), 2),
            "confidence": min(m.confidence for m in matches),
            "actions": records,
            "actions_ms": round(1000 * (time.perf_counter() - started), 2),
        }
        return SkillResult("device", " ".join(r for r in replies if r), data)

    def answer(self, match: IntentMatch) -> SkillResult:
        reply, data = self.answers.answer(match)
        return SkillResult("device-query", reply, {"intent": match.intent, **data})

    def _reply(self, match: IntentMatch, done: list[Action], failed: list[tuple[Action, BaseException]]) -> str:
        lang = self.language
        parts = []
        if done:
            verb = (
                ALARM_VERBS.get(match.intent)
                if match.combination == "alarm_one"
                else KIND_VERBS.get((match.intent, done[0].kind))
            )
            verb = verb or VERBS.get(match.intent) or _verb(done[0])
            if match.intent == "HassToggle" and len({_verb(a) for a in done}) > 1:
                verb = "toggled"  # some on, some off: "Toggled 3 lights."
            what = say(lang, "the_device", name=done[0].name) if len(done) == 1 else _count(lang, done)
            value = _setting(lang, done, match.heard_as) if verb in ("set", "moved") else None
            text = say(lang, f"{verb}_to", what=what, value=value) if value else say(lang, verb, what=what)
            parts.append(text[0].upper() + text[1:])
        for action, err in failed:
            offline = isinstance(err, DeviceError) and err.code == "DEVICE_OFFLINE"
            parts.append(say(lang, "offline_device" if offline else "no_answer", name=action.name))
        return " ".join(parts)


_OBJECT_START = re.compile(r"^(?:the|my|all|a|an|den|die|das|dem)\b", re.IGNORECASE)


def _carry_verbs(parts: list[str]) -> list[str]:
    """ "turn off the TV plug and the floor lamp": the second part borrows the first one's verb."""
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if out and _OBJECT_START.match(part):
            head = re.split(r"\b(?:the|my|all|den|die|das|dem)\b", out[-1], maxsplit=1, flags=re.IGNORECASE)[0]
            if head.strip() and head.strip() != out[-1].strip():
                part = f"{head.strip()} {part}"
        out.append(part)
    return out


def _count(language: str, done: list[Action]) -> str:
    """ "4 lights", "2 fans"; "3 devices" when the kinds differ (or the language has no plurals here)."""
    kinds = {a.kind for a in done}
    if language != "en" or len(kinds) != 1:
        return say(language, "n_devices", n=len(done))
    noun = KIND_NOUNS.get(kinds.pop(), "device")
    return f"{len(done)} {noun}{'es' if noun.endswith(('sh', 'ch', 's')) else 's'}"


def _declined(match: IntentMatch | None) -> bool:
    """Media and other kinds the hub cannot control are planned too: into an honest "I can't"."""
    return match is not None and (
        match.intent in MEDIA_INTENTS
        or match.intent in UNSUPPORTED_INTENTS
        or bool(set(match.domains) & UNSUPPORTED_DOMAINS)
    )


def _setting(language: str, done: list[Action], heard: str | None = None) -> str | None:
    """What the devices were set to, when it is one thing to say: "40%", "21 degrees", "warm white" as
    it was said ("Set the Kitchen Spotlights to 40%."); None for a colour, or when the devices were set
    to different values."""
    white = NAMED_WHITES.search(heard or "") if language == "en" else None
    said = set()
    for action in done:
        values = action.values
        if white and set(values) - {"on"} == {"color_temp"}:
            said.add(white.group(0).lower())
        elif "target_temperature" in values:
            said.add(say(language, "degrees", value=float(values["target_temperature"])))
        elif (key := next((k for k in ("brightness", "percentage", "position") if k in values), None)) is not None:
            said.add(f"{round(float(values[key]))}%")
        else:
            return None
    return said.pop() if len(said) == 1 else None


def _verb(action: Action) -> str:
    """For actions that came without an intent (a tool call): the verb their values imply."""
    values = action.values
    if "locked" in values:
        return "locked" if values["locked"] else "unlocked"
    if values.get("state") in ("open", "close"):
        return "opened" if values["state"] == "open" else "closed"
    if set(values) == {"on"}:
        return "turned_on" if values["on"] else "turned_off"
    return "set"


def _record(action: Action, error: BaseException | None) -> dict[str, object]:
    out: dict[str, object] = {
        "device": action.device_id,
        "name": action.name,
        "values": action.values,
        "confirmed": error is None,
    }
    if error is not None:
        out["error"] = getattr(error, "code", type(error).__name__)
    return out
