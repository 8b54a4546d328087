"""The hub's brain: built-in skills -> local intents -> local LLM -> cloud, on explicit signals.

Every turn returns a `BrainResult` saying which route answered and why (the signals), what was
done to which device with its confirmation, and how long each step took. Replies reach the
caller sentence by sentence through `speak`, so TTS starts on the first sentence of a stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.brain.context import Conversation, Pending
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import CloudUnavailable, Escalator
from edge_runtime.brain.followups import FollowUps
from edge_runtime.brain.intents import BUILTIN_INTENTS, IntentMatch
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.replies import MONTHS, NO, WEEKDAYS, YES, say
from edge_runtime.brain.safety import needs_confirmation
from edge_runtime.brain.signals import Signals, read_signals, strip_override
from edge_runtime.brain.speech import sentences
from edge_runtime.brain.tools import call_tool, grounded
from edge_runtime.skills.builtin import BuiltinSkills, normalize
from models.errors import LlmError
from models.llm import LLM

Speak = Callable[[str, bool], Awaitable[None]]  # (sentence, final)
SMALL_TALK_SYSTEM = ("You are Companion, a friendly voice assistant in the user's home. Reply in one short, "
                     "warm sentence.")  # fmt: skip
SMALL_TALK_EXAMPLES = [("hello", "Hello! What can I do for you?"), ("thank you", "You're welcome!"),
                       ("how are you", "I'm doing well, thanks for asking.")]  # fmt: skip


@dataclass
class BrainPolicy:
    min_confidence: float = 0.8
    confirm_classes: frozenset[str] = frozenset({"lock", "garage", "alarm"})
    confirm_all_actions: bool = False
    confirm_ttl_s: float = 30.0


@dataclass
class BrainResult:
    route: str  # builtin | local-intent | local-memory | local-llm | cloud | confirm
    intent: str
    reply: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "intent": self.intent, "reply": self.reply, "actions": self.actions,
                "signals": self.signals, "data": self.data, "timings_ms": self.timings_ms}  # fmt: skip


async def _silent(sentence: str, final: bool) -> None:
    return None


class Brain:
    def __init__(self, skills: BuiltinSkills, devices: DeviceSkill | None = None, *, llm: LLM | None = None,
                 cloud: Escalator | None = None, policy: BrainPolicy | None = None, language: str = "en",
                 memory: LocalMemory | None = None, user_name: str | None = None) -> None:  # fmt: skip
        self.skills = skills
        self.devices = devices
        self.followups = FollowUps(devices.engine) if devices else None
        self.llm = llm
        self.cloud = cloud
        self.policy = policy or BrainPolicy()
        self.language = devices.language if devices else language
        self.memory = memory
        self.user_name = user_name
        self._llm_lock = asyncio.Lock()

    async def handle(self, text: str, conversation: Conversation | None = None, speak: Speak = _silent) -> BrainResult:
        conversation = conversation or Conversation(language=self.language)
        started = time.perf_counter()
        result = await self._route(text, conversation, speak)
        result.timings_ms["total"] = round(1000 * (time.perf_counter() - started), 2)
        conversation.said("user", text)
        conversation.said("assistant", result.reply)
        return result

    async def _route(self, text: str, conversation: Conversation, speak: Speak) -> BrainResult:
        pending = conversation.take_pending()
        if pending is not None and (answer := self._yes_no(text)) is not None:
            return await self._confirm(pending, answer, conversation, speak)
        builtin = self.skills.handle(text) if self.language == "en" else None
        if builtin is not None and builtin.intent != "unknown":
            return await self._said(BrainResult("builtin", builtin.intent, builtin.reply or "", data=builtin.data),
                                    speak)  # fmt: skip
        text, override = strip_override(text)
        signals = read_signals(text, override=override)
        if self.memory is not None and not override and (kept := self._memory(text, signals)) is not None:
            return await self._said(kept, speak)
        if not override and self.devices is not None:
            local = await self._local(text, conversation, signals, speak)
            if local is not None:
                return local
        if self.llm is not None and signals.small_talk and not signals.needs_cloud:
            return await self._small_talk(text, conversation, signals, speak)
        if self.llm is not None and self.devices is not None and not signals.beyond_devices:
            tool = await self._tool(text, conversation, signals, speak)
            if tool is not None:
                return tool
        return await self._escalate(text, conversation, signals, speak)

    # --- local intents -------------------------------------------------------------------

    async def _local(self, text: str, conversation: Conversation, signals: Signals,
                     speak: Speak) -> BrainResult | None:  # fmt: skip
        assert self.devices is not None and self.followups is not None
        started = time.perf_counter()
        matches = self.devices.match(text)
        if matches is None and (follow := self.followups.resolve(text, conversation)) is not None:
            matches = [follow]
        intent_ms = round(1000 * (time.perf_counter() - started), 2)
        if matches is None:
            return None
        first = matches[0]
        if first.intent in ("HassGetCurrentTime", "HassGetCurrentDate") and self.language in WEEKDAYS:
            return await self._said(self._clock_reply(first.intent), speak)
        if first.intent in BUILTIN_INTENTS or not first.supported or first.confidence < self.policy.min_confidence:
            return None  # a time question in another language, the weather, an unsure fuzzy match
        fired = [*signals.fired(), *(["fuzzy"] if first.confidence < 1 else [])]
        data = {"intent_ms": intent_ms, "confidence": first.confidence, "heard_as": first.heard_as}
        if first.query:
            answer = self.devices.answer(first)
            return await self._said(BrainResult("local-intent", first.intent, answer.reply or "", signals=fired,
                                                data={**data, **answer.data}), speak)  # fmt: skip
        if not any(m.actions for m in matches):
            nothing = self.devices.nothing(first)
            return await self._said(BrainResult("local-intent", first.intent, nothing.reply or "", signals=fired,
                                                data=data), speak)  # fmt: skip
        return await self._act(matches, conversation, "local-intent", fired, data, speak)

    async def _act(self, matches: list[IntentMatch], conversation: Conversation, route: str, fired: list[str],
                   data: dict[str, Any], speak: Speak, *, confirmed: bool = False) -> BrainResult:  # fmt: skip
        assert self.devices is not None
        records = self.devices.devices.registry.records
        classes = frozenset() if confirmed else self.policy.confirm_classes
        ask = needs_confirmation(records, [a for m in matches for a in m.actions], classes,
                                 every_action=self.policy.confirm_all_actions)  # fmt: skip
        intent = "+".join(m.intent for m in matches)
        if ask:
            what = " and ".join(say(self.language, verb, name=a.name) for a, verb in ask)
            question = say(self.language, "confirm_question", what=what)
            conversation.pending = Pending(matches, intent, question, time.monotonic() + self.policy.confirm_ttl_s)
            awaiting = {**data, "awaiting": [a.device_id for a, _ in ask]}
            asking = BrainResult(route, intent, question, signals=[*fired, "needs-confirmation"], data=awaiting)
            return await self._said(asking, speak)
        result = await self.devices.act(matches)
        done = [a["device"] for a in result.data["actions"] if a["confirmed"]]
        conversation.acted(matches[-1].intent, matches[-1].slots, [a.device_id for a in matches[-1].actions])
        out = BrainResult(route, intent, result.reply or "", result.data["actions"], fired,
                          {**data, "actions_ms": result.data["actions_ms"], "confirmed": done})  # fmt: skip
        out.timings_ms["actions"] = result.data["actions_ms"]
        return await self._said(out, speak)

    def _memory(self, text: str, signals: Signals) -> BrainResult | None:
        """Kept or recalled on the hub; a question the memory cannot answer goes on to the cloud."""
        assert self.memory is not None
        item = self.memory.remember(text)
        if item is not None:
            return BrainResult("local-memory", "remember", say(self.language, "remembered"),
                               signals=signals.fired(), data={"memory_id": item})  # fmt: skip
        recalled = self.memory.recall(text)
        if recalled is not None:
            return BrainResult("local-memory", "recall", say(self.language, "recalled", text=recalled.text),
                               signals=signals.fired(), data={"memory_id": recalled.item_id})  # fmt: skip
        return None

    def _clock_reply(self, intent: str) -> BrainResult:
        """Time and date for languages the English built-in skills do not speak."""
        now = self.skills.clock.now()
        if intent == "HassGetCurrentTime":
            return BrainResult("builtin", "time", say(self.language, "time", hour=now.hour, minute=now.minute))
        weekday, month = WEEKDAYS[self.language][now.weekday()], MONTHS[self.language][now.month - 1]
        reply = say(self.language, "date", weekday=weekday, day=now.day, month=month, year=now.year)
        return BrainResult("builtin", "date", reply)

    def _yes_no(self, text: str) -> bool | None:
        words = normalize(text).strip(" .!")
        if words in YES or words.startswith("yes "):
            return True
        if words in NO or words.startswith("no "):
            return False
        return None

    async def _confirm(self, pending: Pending, yes: bool, conversation: Conversation, speak: Speak) -> BrainResult:
        if not yes or self.devices is None:
            return await self._said(BrainResult("confirm", pending.intent, say(self.language, "confirm_cancelled"),
                                                signals=["declined"]), speak)  # fmt: skip
        return await self._act(pending.matches, conversation, "confirm", ["confirmed"], {}, speak, confirmed=True)

    # --- the local LLM -------------------------------------------------------------------

    async def _tool(self, text: str, conversation: Conversation, signals: Signals,
                    speak: Speak) -> BrainResult | None:  # fmt: skip
        assert self.devices is not None and self.llm is not None
        candidates = grounded(text, self.devices.devices.registry, also=conversation.targets())
        if not candidates:
            return None
        started = time.perf_counter()
        async with self._llm_lock:
            try:
                call = await asyncio.to_thread(call_tool, self.llm, text, candidates)
            except LlmError:
                return None  # the cloud may do better
        llm_ms = round(1000 * (time.perf_counter() - started), 2)
        fired = [*signals.fired(), "tool-valid" if call.valid else "tool-invalid"]
        data = {"tool_call": call.raw, "candidates": [r.id for r in candidates], "llm_ms": llm_ms}
        if call.action is None:
            unsure = say(self.language, "unsure_device", name=candidates[0].name)
            return await self._said(BrainResult("local-llm", "tool-call", unsure, signals=fired,
                                                data={**data, "error": call.error}), speak)  # fmt: skip
        match = IntentMatch("ToolCall", {"ids": [call.action.device_id]}, [call.action])
        result = await self._act([match], conversation, "local-llm", fired, data, speak)
        result.timings_ms["llm"] = llm_ms
        return result

    async def _small_talk(self, text: str, conversation: Conversation, signals: Signals,
                          speak: Speak) -> BrainResult:  # fmt: skip
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
        result = BrainResult("local-llm", "small-talk", reply, signals=signals.fired())
        result.timings_ms.update(llm=round(1000 * (time.perf_counter() - started), 2), first_sentence=first_ms or 0.0)
        return result

    # --- the cloud -----------------------------------------------------------------------

    async def _escalate(self, text: str, conversation: Conversation, signals: Signals,
                        speak: Speak) -> BrainResult:  # fmt: skip
        fired = signals.fired() or ["no-local-match"]
        if self.cloud is None:
            unlinked = {"fallback": "CLOUD_NOT_LINKED"}
            return await self._said(BrainResult("cloud", "escalate", say(self.language, "not_linked"),
                                                signals=fired, data=unlinked), speak)  # fmt: skip
        history = [{"role": r, "text": t} for r, t in conversation.history][-10:]
        context: dict[str, Any] = {"language": self.language}
        if self.devices is not None:
            context["devices"] = [
                {"name": r.name, "kind": r.device.kind.value, "area": r.area, "state": r.state}
                for r in list(self.devices.devices.registry.records.values())[:50]
            ]
        started = time.perf_counter()
        try:
            reply, first_ms = await self._stream(self.cloud.stream([*history, {"role": "user", "text": text}],
                                                                    context), speak)  # fmt: skip
        except CloudUnavailable as err:
            key = {"CLOUD_TIMEOUT": "cloud_slow", "CLOUD_NOT_LINKED": "not_linked"}.get(err.code, "offline")
            return await self._said(BrainResult("cloud", "escalate", say(self.language, key), signals=fired,
                                                data={"fallback": err.code, "error": err.message}), speak)  # fmt: skip
        result = BrainResult("cloud", "escalate", reply, signals=fired)
        result.timings_ms.update(cloud=round(1000 * (time.perf_counter() - started), 2), first_sentence=first_ms or 0.0)
        return result

    # --- speaking ------------------------------------------------------------------------

    async def _said(self, result: BrainResult, speak: Speak) -> BrainResult:
        if result.reply:
            await speak(result.reply, True)
        return result

    async def _stream(self, pieces: AsyncIterator[str], speak: Speak, *,
                      max_sentences: int = 0) -> tuple[str, float | None]:  # fmt: skip
        """Speak each sentence as soon as it is complete, then close the reply with an empty final one.
        Returns the whole reply and the first sentence's ms."""
        started = time.perf_counter()
        first_ms: float | None = None
        spoken: list[str] = []
        try:
            async for sentence in sentences(pieces):
                if first_ms is None:
                    first_ms = round(1000 * (time.perf_counter() - started), 2)
                await speak(sentence, False)
                spoken.append(sentence)
                if max_sentences and len(spoken) >= max_sentences:
                    break
        finally:
            if spoken:
                await speak("", True)
        return " ".join(spoken), first_ms
