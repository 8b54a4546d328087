"""Device commands and questions from text: intents -> confirmed actions -> a spoken reply."""

from __future__ import annotations

import asyncio
import re
import time

from edge_runtime.brain.intents import Action, IntentEngine, IntentMatch
from edge_runtime.devices.errors import DeviceError
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.skills.builtin import SkillResult

# Intents the built-in skills answer; the device skill leaves them alone.
BUILTIN = {"HassGetCurrentTime", "HassGetCurrentDate", "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers",
           "HassTimerStatus", "HassNevermind", "HassPauseTimer", "HassUnpauseTimer"}  # fmt: skip


SPLIT = re.compile(r"\s*(?:,\s*)?\b(?:and then|and|then)\b\s*|\s*;\s*", re.IGNORECASE)


class DeviceSkill:
    def __init__(self, devices: DeviceHub, engine: IntentEngine | None = None) -> None:
        self.devices = devices
        self.engine = engine or IntentEngine(devices.registry)

    async def handle(self, text: str) -> SkillResult | None:
        match = self.engine.recognize(text)
        if match is None:
            return await self._several(text)
        if match.intent in BUILTIN:
            return None
        if match.query:
            return self._answer(match)
        if not match.actions:
            return SkillResult("device-none", "I couldn't find a device for that.", {"intent": match.intent})
        return await self._act([match])

    async def _several(self, text: str) -> SkillResult | None:
        """ "Turn on the kitchen light and lock the front door": every part must be a device command."""
        parts = [p for p in SPLIT.split(text) if p.strip()]
        if len(parts) < 2:
            return None
        matches = [self.engine.recognize(p) for p in parts]
        if any(m is None or m.intent in BUILTIN or m.query or not m.actions for m in matches):
            return None
        return await self._act([m for m in matches if m is not None])

    async def _act(self, matches: list[IntentMatch]) -> SkillResult:
        started = time.perf_counter()
        planned = [(m, a) for m in matches for a in m.actions]
        outcomes = await asyncio.gather(*(self.devices.set(a.device_id, a.values) for _, a in planned),
                                        return_exceptions=True)  # fmt: skip
        replies = []
        for match in matches:
            results = [(a, o) for (m, a), o in zip(planned, outcomes, strict=True) if m is match]
            done = [a for a, o in results if not isinstance(o, BaseException)]
            failed = [(a, o) for a, o in results if isinstance(o, BaseException)]
            replies.append(_reply(match, done, failed))
        done_all = [a for (_, a), o in zip(planned, outcomes, strict=True) if not isinstance(o, BaseException)]
        failed_all = [(a, o) for (_, a), o in zip(planned, outcomes, strict=True) if isinstance(o, BaseException)]
        data = {
            "intent": "+".join(m.intent for m in matches), "intent_ms": round(sum(m.ms for m in matches), 2),
            "actions": [_record(a, None) for a in done_all] + [_record(a, o) for a, o in failed_all],
            "actions_ms": round(1000 * (time.perf_counter() - started), 2),
        }  # fmt: skip
        return SkillResult("device", " ".join(r for r in replies if r), data)

    def _answer(self, match: IntentMatch) -> SkillResult:
        rec = match.query[0]
        want = str(match.slots.get("state", "")).lower()
        state = rec.state
        if rec.available is False:
            return SkillResult("device-query", f"The {rec.name} is offline.", {"intent": match.intent})
        if "locked" in state:
            actual = "locked" if state["locked"] else "unlocked"
        elif "on" in state:
            actual = "on" if state["on"] else "off"
        else:
            actual = str(state.get("state", ""))
        if want and actual:
            yes = actual == want
            reply = f"{'Yes' if yes else 'No'}, the {rec.name} is {actual}."
        else:
            reply = f"The {rec.name} is {actual or 'in an unknown state'}."
        return SkillResult("device-query", reply, {"intent": match.intent, "device": rec.id, "state": state})


VERBS = {("HassTurnOn", "lock"): "Locked", ("HassTurnOff", "lock"): "Unlocked", ("HassTurnOn", "cover"): "Opened",
         ("HassTurnOff", "cover"): "Closed"}  # fmt: skip


def _reply(match: IntentMatch, done: list[Action], failed: list[tuple[Action, BaseException]]) -> str:
    verb = {"HassTurnOn": "Turned on", "HassTurnOff": "Turned off", "HassLightSet": "Set",
            "HassClimateSetTemperature": "Set", "HassSetPosition": "Moved"}.get(match.intent, "Done:")  # fmt: skip
    if done:
        verb = VERBS.get((match.intent, done[0].kind), verb)
    parts = []
    if done:
        parts.append(f"{verb} the {done[0].name}." if len(done) == 1 else f"{verb} {len(done)} devices.")
    for action, err in failed:
        reason = "is offline" if isinstance(err, DeviceError) and err.code == "DEVICE_OFFLINE" else "did not respond"
        parts.append(f"The {action.name} {reason}.")
    return " ".join(parts)


def _record(action: Action, error: BaseException | None) -> dict[str, object]:
    out: dict[str, object] = {"device": action.device_id, "name": action.name, "values": action.values,
                              "confirmed": error is None}  # fmt: skip
    if error is not None:
        out["error"] = getattr(error, "code", type(error).__name__)
    return out
