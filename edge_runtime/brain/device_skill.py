"""Device commands and questions from text: intents -> confirmed actions -> a spoken reply."""

from __future__ import annotations

import asyncio
import time

from edge_runtime.brain.intents import Action, IntentEngine, IntentMatch
from edge_runtime.devices.errors import DeviceError
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.skills.builtin import SkillResult

# Intents the built-in skills answer; the device skill leaves them alone.
BUILTIN = {"HassGetCurrentTime", "HassGetCurrentDate", "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers",
           "HassTimerStatus", "HassNevermind", "HassPauseTimer", "HassUnpauseTimer"}  # fmt: skip


class DeviceSkill:
    def __init__(self, devices: DeviceHub, engine: IntentEngine | None = None) -> None:
        self.devices = devices
        self.engine = engine or IntentEngine(devices.registry)

    async def handle(self, text: str) -> SkillResult | None:
        match = self.engine.recognize(text)
        if match is None or match.intent in BUILTIN:
            return None
        if match.query:
            return self._answer(match)
        if not match.actions:
            return SkillResult("device-none", "I couldn't find a device for that.", {"intent": match.intent})
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(self.devices.set(a.device_id, a.values) for a in match.actions),
                                        return_exceptions=True)  # fmt: skip
        done = [a for a, o in zip(match.actions, outcomes, strict=True) if not isinstance(o, BaseException)]
        failed = [(a, o) for a, o in zip(match.actions, outcomes, strict=True) if isinstance(o, BaseException)]
        data = {
            "intent": match.intent, "intent_ms": match.ms,
            "actions": [{"device": a.device_id, "name": a.name, "values": a.values, "confirmed": True} for a in done]
            + [{"device": a.device_id, "name": a.name, "values": a.values, "confirmed": False,
                "error": getattr(o, "code", type(o).__name__)} for a, o in failed],
            "actions_ms": round(1000 * (time.perf_counter() - started), 2),
        }  # fmt: skip
        return SkillResult("device", _reply(match, [a.name for a in done], failed), data)

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


def _reply(match: IntentMatch, done: list[str], failed: list[tuple[Action, BaseException]]) -> str:
    verb = {"HassTurnOn": "Turned on", "HassTurnOff": "Turned off", "HassLightSet": "Set",
            "HassClimateSetTemperature": "Set", "HassSetPosition": "Moved"}.get(match.intent, "Done:")  # fmt: skip
    parts = []
    if done:
        names = done[0] if len(done) == 1 else f"{len(done)} devices"
        parts.append(f"{verb} the {names}." if len(done) == 1 else f"{verb} {names}.")
    for action, err in failed:
        reason = "is offline" if isinstance(err, DeviceError) and err.code == "DEVICE_OFFLINE" else "did not respond"
        parts.append(f"The {action.name} {reason}.")
    return " ".join(parts)
