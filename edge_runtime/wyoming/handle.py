"""`handle`: transcript -> handled (or not-handled), through the hub's own brain.

Home Assistant sends what the user said, with a `conversation_id` in its context; the brain
answers and acts on the hub's devices (a command counts only once the device's state echo
confirms it). The reply streams sentence by sentence as handled-chunk events, then `handled`
carries the whole of it, as the protocol asks, for clients that read only that.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from wyoming.event import Event
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled

from edge_runtime.wyoming.errors import BadEvent
from models.errors import CompanionError

if TYPE_CHECKING:  # the brain loads only where one is served (a bench serving STT and TTS needs none)
    from edge_runtime.brain.context import Conversation
    from edge_runtime.brain.router import Brain, BrainResult

Send = Callable[[Event], Awaitable[None]]
MAX_TEXT = 1000  # characters of one spoken request
MAX_CONVERSATIONS = 64


class Conversations:
    """Home Assistant's conversation ids to the brain's contexts, so "turn it off" means the last device."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._kept: OrderedDict[str, Conversation] = OrderedDict()

    def get(self, key: str) -> Conversation:
        from edge_runtime.brain.context import Conversation

        if key in self._kept:
            self._kept.move_to_end(key)
        else:
            self._kept[key] = Conversation(id=key, language=self.language)
            while len(self._kept) > MAX_CONVERSATIONS:
                self._kept.popitem(last=False)
        return self._kept[key]


async def handle(brain: Brain, conversations: Conversations, data: dict[str, Any], send: Send) -> None:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise BadEvent(f"'text' must be what the user said, 1-{MAX_TEXT} characters")
    context = data.get("context")
    asked = context.get("conversation_id") if isinstance(context, dict) else None
    key = str(asked or "wyoming")[:128]
    started = False

    async def speak(sentence: str, final: bool) -> None:
        nonlocal started
        if not started:
            started = True
            await send(HandledStart(context={"conversation_id": key}).event())
        await send(HandledChunk(text=sentence if final else sentence + " ").event())

    try:
        result = await brain.handle(text.strip(), conversations.get(key), speak)
    except CompanionError as err:
        await send(NotHandled(text=err.message, context={"conversation_id": key, "code": err.code}).event())
        return
    reply_context = {"conversation_id": key, "route": result.route, "intent": result.intent}
    if _done(result):
        if not started and result.reply:  # a reply the brain did not speak sentence by sentence
            await speak(result.reply, True)
        await send(Handled(text=result.reply, context=reply_context).event())
    else:
        await send(NotHandled(text=result.reply, context=reply_context).event())
    if started:
        await send(HandledStop().event())


def _done(result: BrainResult) -> bool:
    """Handled unless an action the user asked for was not confirmed by its device."""
    return all(a.get("confirmed", True) for a in result.actions if isinstance(a, dict))
