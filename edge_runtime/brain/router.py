"""The hub's brain: an ordered list of routes (`routes.ROUTES`), each with one job: a pending
"yes/no", built-in skills, memory, lists, local intents, small talk, the LLM's tool calls, the cloud.

Every turn returns a `BrainResult` saying which route answered and why (the signals), what was
done to which device with its confirmation, and how long each step took. Replies reach the
caller sentence by sentence through `speak`, so TTS starts on the first sentence of a stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from edge_runtime.brain.acting import DeviceRoutes
from edge_runtime.brain.broadcast import Announcer
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.followups import FollowUps
from edge_runtime.brain.local_llm import LocalLlmRoutes
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.result import BrainPolicy, BrainResult, Speak, silent
from edge_runtime.brain.routes import ROUTES, RouteFn, Turn
from edge_runtime.brain.signals import read_signals, strip_override
from edge_runtime.brain.speech import sentences
from edge_runtime.skills.builtin import BuiltinSkills, drop_wake_prefix
from edge_runtime.skills.lists import ListSkill
from models.llm import LLM

__all__ = ["Brain", "BrainPolicy", "BrainResult"]


class Brain(DeviceRoutes, LocalLlmRoutes):
    """Walks the routes for each turn; owns the conversation state, the policy and the speaking."""

    def __init__(
        self,
        skills: BuiltinSkills,
        devices: DeviceSkill | None = None,
        *,
        llm: LLM | None = None,
        cloud: Escalator | None = None,
        policy: BrainPolicy | None = None,
        language: str = "en",
        memory: LocalMemory | None = None,
        user_name: str | None = None,
        lists: ListSkill | None = None,
        routes: tuple[RouteFn, ...] = ROUTES,
    ) -> None:
        self.skills = skills
        self.devices = devices
        self.followups = FollowUps(devices.engine, devices.planner) if devices else None
        self.llm = llm
        self.cloud = cloud
        self.policy = policy or BrainPolicy()
        self.language = devices.language if devices else language
        self.memory = memory
        # The lists live next to the memory, in the synced document (English sentences for now).
        if lists is None and memory is not None and self.language == "en":
            lists = ListSkill(memory.doc)
        self.lists = lists
        self.user_name = user_name
        self.routes = routes
        self.peers: Announcer | None = None  # the home's other hubs, when there are (set by the hub)
        self._llm_lock = asyncio.Lock()
        skills.timers.on_command = self._run_later
        if devices is not None:  # "the kitchen timer": the home's rooms, and the hub's own
            registry = devices.devices.registry
            skills.timer_skill.areas = lambda: {r.area for r in registry.spoken() if r.area}
            skills.timer_skill.here = lambda: registry.home_area

    async def handle(self, text: str, conversation: Conversation | None = None, speak: Speak = silent) -> BrainResult:
        conversation = conversation or Conversation(language=self.language)
        started = time.perf_counter()
        result = await self._route(text, conversation, speak)
        result.timings_ms["total"] = round(1000 * (time.perf_counter() - started), 2)
        conversation.said("user", text)
        conversation.said("assistant", result.reply)
        return result

    async def _route(self, said: str, conversation: Conversation, speak: Speak) -> BrainResult:
        said = drop_wake_prefix(said)
        text, override = strip_override(said)
        signals = read_signals(text, override=override)
        pending, last_list = conversation.take_pending(), conversation.take_list()
        turn = Turn(said, text, conversation, speak, signals, override, pending, last_list)
        for route in self.routes:
            if (result := await route(self, turn)) is not None:
                return result
        raise RuntimeError("the last route must answer every turn")  # ROUTES ends with the cloud, which does

    # --- speaking ------------------------------------------------------------------------

    async def _said(self, result: BrainResult, speak: Speak) -> BrainResult:
        if result.reply:
            await speak(result.reply, True)
        return result

    async def _stream(
        self, pieces: AsyncIterator[str], speak: Speak, *, max_sentences: int = 0
    ) -> tuple[str, float | None]:
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
