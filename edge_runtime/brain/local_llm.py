"""The hub's small LLM as routes: small talk, and device tool calls held to what the sentence
supports (`guard.py`). A mixin of `Brain`, which owns the state and the speaking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from edge_runtime.brain.context import Conversation
from edge_runtime.brain.guard import KIND_ONLY, Verdict, fitting, judge, places_in, refusal_reply
from edge_runtime.brain.intents import Action, IntentMatch
from edge_runtime.brain.replies import say
from edge_runtime.brain.result import BrainResult, Speak
from edge_runtime.brain.signals import Signals
from edge_runtime.brain.tools import STEPPED, call_tool, grounded, relative, stepped
from edge_runtime.brain.vocab import KIND_NOUNS, Intent, Route
from models.errors import LlmError

if TYPE_CHECKING:
    from edge_runtime.brain.device_skill import DeviceSkill
    from edge_runtime.devices.registry import DeviceRecord
    from models.llm import LLM

SMALL_TALK_SYSTEM = (
    "You are Companion, a friendly voice assistant in the user's home. Reply in one short, warm sentence."
)
SMALL_TALK_EXAMPLES = [
    ("hello", "Hello! What can I do for you?"),
    ("thank you", "You're welcome!"),
    ("how are you", "I'm doing well, thanks for asking."),
]
ON_OFF_KINDS = frozenset({"light", "switch", "fan"})


def _kind_noun(kinds: frozenset[str]) -> str:
    return KIND_NOUNS.get(sorted(kinds)[0], "device") if len(kinds) == 1 else "device like that"


class LocalLlmRoutes:
    devices: DeviceSkill | None
    llm: LLM | None
    language: str
    user_name: str | None
    _llm_lock: asyncio.Lock

    if TYPE_CHECKING:

        async def _said(self, result: BrainResult, speak: Speak) -> BrainResult: ...

        async def _act(
            self,
            matches: list[IntentMatch],
            conversation: Conversation,
            route: str,
            fired: list[str],
            data: dict[str, Any],
            speak: Speak,
            *,
            confirmed: bool = False,
        ) -> BrainResult: ...

        async def _stream(
            self, pieces: AsyncIterator[str], speak: Speak, *, max_sentences: int = 0
        ) -> tuple[str, float | None]: ...

    async def _tool(self, text: str, conversation: Conversation, signals: Signals, speak: Speak) -> BrainResult | None:
        assert self.devices is not None and self.llm is not None
        registry = self.devices.devices.registry
        verdict = judge(text, (n for r in registry.spoken() for n in r.names()))
        if verdict.refusal is not None:
            return await self._declined(verdict.refusal, text, verdict, signals, speak)
        candidates = fitting(grounded(text, registry, also=conversation.targets()), verdict)
        if not candidates:
            return await self._declined("KIND_MISMATCH", text, verdict, signals, speak)
        if (up := relative(text)) is not None and (
            done := await self._step(text, up, candidates, verdict, conversation, signals, speak)
        ):
            return done
        started = time.perf_counter()
        async with self._llm_lock:
            try:
                call = await asyncio.to_thread(call_tool, self.llm, text, candidates, verdict)
            except LlmError:
                return None  # the cloud may do better
        llm_ms = round(1000 * (time.perf_counter() - started), 2)
        fired = [*signals.fired(), "tool-valid" if call.valid else "tool-invalid"]
        data = {"tool_call": call.raw, "candidates": [r.id for r in candidates], "llm_ms": llm_ms}
        if call.action is None:
            unsure = say(self.language, "unsure_device", name=candidates[0].name)
            return await self._said(
                BrainResult(Route.LOCAL_LLM, "tool-call", unsure, signals=fired, data={**data, "error": call.error}),
                speak,
            )
        match = IntentMatch(Intent.TOOL_CALL, {"ids": [call.action.device_id]}, [call.action])
        result = await self._act([match], conversation, Route.LOCAL_LLM, fired, data, speak)
        result.timings_ms["llm"] = llm_ms
        return result

    async def _step(
        self,
        text: str,
        up: bool,
        candidates: list[DeviceRecord],
        verdict: Verdict,
        conversation: Conversation,
        signals: Signals,
        speak: Speak,
    ) -> BrainResult | None:
        """ "Make it go faster", "a bit dimmer": one step on the device in question, by our own rule
        (`tools.stepped`), never the model's guess, and never an on/off switch. A device with nothing
        to step gets "I'm not sure what to do with it"; covers are left to the model (position)."""
        allowed = verdict.attributes & STEPPED.keys() or frozenset(STEPPED)
        steps = [(r, stepped(r, up, allowed)) for r in candidates]
        actions = [Action(r.id, r.name, values, r.device.kind.value) for r, values in steps if values]
        direction = "up" if up else "down"
        fired = [*signals.fired(), "relative-step"]
        data: dict[str, Any] = {"relative": direction, "candidates": [r.id for r in candidates]}
        if actions:
            match = IntentMatch(
                Intent.TOOL_CALL, {"ids": [a.device_id for a in actions], "relative": direction}, actions
            )
            return await self._act([match], conversation, Route.LOCAL_LLM, fired, data, speak)
        if any(r.device.kind.value in ("cover", "valve") for r in candidates):
            return None
        unsure = say(self.language, "unsure_device", name=candidates[0].name)
        return await self._said(
            BrainResult(Route.LOCAL_LLM, "tool-call", unsure, signals=fired, data={**data, "error": "NOTHING_TO_STEP"}),
            speak,
        )

    async def _declined(
        self, code: str, text: str, verdict: Verdict, signals: Signals, speak: Speak
    ) -> BrainResult | None:
        """The LLM may not act on this: say why, or let the cloud answer (a question)."""
        assert self.devices is not None
        records = self.devices.devices.registry.spoken()
        reply = None
        if code in ("MEDIA_UNSUPPORTED", "SCENE_UNSUPPORTED", *KIND_ONLY):
            reply = refusal_reply(code, text, records, self.language)
        elif code == "NOT_NOW":
            reply = say(self.language, "not_now_later")
        elif code == "UNSURE":
            reply = say(self.language, "not_sure")
        elif (places := places_in(text, records)) and (verdict.named_kinds or verdict.kinds != ON_OFF_KINDS):
            kinds = verdict.named_kinds or verdict.kinds
            if not any(r.device.kind.value in kinds and r.area == places[0] for r in records):
                reply = say(self.language, "no_kind_in_area", kind=_kind_noun(kinds), area=places[0])
        if reply is None:
            return None
        fired = [*signals.fired(), "tool-declined"]
        return await self._said(
            BrainResult(Route.LOCAL_LLM, "tool-call", reply, signals=fired, data={"problem": code}), speak
        )

    async def _small_talk(self, text: str, conversation: Conversation, signals: Signals, speak: Speak) -> BrainResult:
        assert self.llm is not None
        system = SMALL_TALK_SYSTEM + (f" The user's name is {self.user_name}." if self.user_name else "")
        messages = [{"role": "system", "content": system}]
        for question, answer in SMALL_TALK_EXAMPLES:
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        messages.append({"role": "user", "content": text})
        llm = self.llm
        started = time.perf_counter()

        async def pieces() -> AsyncIterator[str]:
            async with self._llm_lock:
                async for piece in llm.astream(messages, max_tokens=40, temperature=0.0, stop=["\n"]):
                    yield piece

        reply, first_ms = await self._stream(pieces(), speak, max_sentences=2)
        result = BrainResult(Route.LOCAL_LLM, "small-talk", reply, signals=signals.fired())
        result.timings_ms.update(llm=round(1000 * (time.perf_counter() - started), 2), first_sentence=first_ms or 0.0)
        return result
