"""Device commands and questions: intents -> confirmed actions -> a spoken reply."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from edge_runtime.brain.intents import BUILTIN_INTENTS, DEVICE_INTENTS, Action, IntentEngine, IntentMatch
from edge_runtime.brain.replies import say, state_word
from edge_runtime.devices.errors import DeviceError
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.skills.builtin import SkillResult

BUILTIN = BUILTIN_INTENTS  # kept for callers of the first version
SPLIT = re.compile(r"\s*(?:,\s*)?\b(?:and then|and|then|und dann|und|dann)\b\s*|\s*;\s*", re.IGNORECASE)
VERBS = {"HassTurnOn": "turned_on", "HassTurnOff": "turned_off", "HassLightSet": "set",
         "HassClimateSetTemperature": "set", "HassSetPosition": "moved"}  # fmt: skip
KIND_VERBS = {("HassTurnOn", "lock"): "locked", ("HassTurnOff", "lock"): "unlocked", ("HassTurnOn", "cover"): "opened",
              ("HassTurnOff", "cover"): "closed"}  # fmt: skip


class DeviceSkill:
    def __init__(self, devices: DeviceHub, engine: IntentEngine | None = None, *, language: str = "en") -> None:
        self.devices = devices
        self.engine = engine or IntentEngine(devices.registry, language)
        self.language = self.engine.language

    def match(self, text: str) -> list[IntentMatch] | None:
        """One match, or several when every part of "... and ..." is a device command. Parts are
        tried first: a whole sentence with "and" in it rarely matches, and failing costs most."""
        parts = _carry_verbs([p for p in SPLIT.split(text) if p.strip()])
        if len(parts) >= 2:
            matches = [self.engine.recognize(p) for p in parts]
            if all(m is not None and m.intent in DEVICE_INTENTS and not m.query and m.actions for m in matches):
                return [m for m in matches if m is not None]
        match = self.engine.recognize(text)
        return [match] if match is not None else None

    async def handle(self, text: str) -> SkillResult | None:
        """The whole local path in one call (no conversation, no confirmations)."""
        matches = self.match(text)
        if matches is None or matches[0].intent in BUILTIN_INTENTS or not matches[0].supported:
            return None
        if matches[0].query:
            return self.answer(matches[0])
        if not any(m.actions for m in matches):
            return self.nothing(matches[0])
        return await self.act(matches)

    def nothing(self, match: IntentMatch) -> SkillResult:
        return SkillResult("device-none", say(self.language, "no_device"), {"intent": match.intent})

    async def act(self, matches: list[IntentMatch]) -> SkillResult:
        started = time.perf_counter()
        planned = [(m, a) for m in matches for a in m.actions]
        outcomes = await asyncio.gather(*(self.devices.set(a.device_id, a.values) for _, a in planned),
                                        return_exceptions=True)  # fmt: skip
        replies = []
        for match in matches:
            results = [(a, o) for (m, a), o in zip(planned, outcomes, strict=True) if m is match]
            done = [a for a, o in results if not isinstance(o, BaseException)]
            failed = [(a, o) for a, o in results if isinstance(o, BaseException)]
            replies.append(self._reply(match, done, failed))
        records = [_record(a, None if not isinstance(o, BaseException) else o)
                   for (_, a), o in zip(planned, outcomes, strict=True)]  # fmt: skip
        data = {
            "intent": "+".join(m.intent for m in matches), "intent_ms": round(sum(m.ms for m in matches), 2),
            "confidence": min(m.confidence for m in matches), "actions": records,
            "actions_ms": round(1000 * (time.perf_counter() - started), 2),
        }  # fmt: skip
        return SkillResult("device", " ".join(r for r in replies if r), data)

    def answer(self, match: IntentMatch) -> SkillResult:
        lang = self.language
        rec = match.query[0]
        data: dict[str, Any] = {"intent": match.intent, "device": rec.id, "state": rec.state}
        if rec.available is False:
            return SkillResult("device-query", say(lang, "offline_device", name=rec.name), data)
        state = rec.state
        if match.intent == "HassClimateGetTemperature":
            value = state.get("current_temperature", state.get("value"))
            if value is not None:
                where = rec.area or rec.name
                return SkillResult("device-query", say(lang, "temperature", value=float(value), where=where), data)
        if "locked" in state:
            actual = "locked" if state["locked"] else "unlocked"
        elif "on" in state:
            actual = "on" if state["on"] else "off"
        else:
            actual = str(state.get("state", ""))
        want = str(match.slots.get("state", "")).lower()
        if want and actual:
            key = "state_yes" if actual == want else "state_no"
            reply = say(lang, key, name=rec.name, state=state_word(lang, actual))
        else:
            reply = say(lang, "state_is", name=rec.name, state=state_word(lang, actual) or say(lang, "unknown_state"))
        return SkillResult("device-query", reply, data)

    def _reply(self, match: IntentMatch, done: list[Action], failed: list[tuple[Action, BaseException]]) -> str:
        lang = self.language
        parts = []
        if done:
            verb = KIND_VERBS.get((match.intent, done[0].kind)) or VERBS.get(match.intent) or _verb(done[0])
            what = say(lang, "the_device", name=done[0].name) if len(done) == 1 else say(lang, "n_devices", n=len(done))
            text = say(lang, verb, what=what)
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
    out: dict[str, object] = {"device": action.device_id, "name": action.name, "values": action.values,
                              "confirmed": error is None}  # fmt: skip
    if error is not None:
        out["error"] = getattr(error, "code", type(error).__name__)
    return out
