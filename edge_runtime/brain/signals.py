"""The router's explicit signals: what a turn needs that the hub cannot give (knowledge, memory,
translation, a long answer), whether the user asked for the cloud, and whether it is small talk.

Plain patterns on purpose: each signal is a fact a test can check, and the trace shows which fired.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_OVERRIDE = re.compile(
    r"^(?:please )?(?:ask|use|check with|go to) (?:the )?cloud(?: (?:and|to|about|if|whether|for))?\s*[:,]?\s*"
    r"|\s*[,]?\s*(?:ask|use) (?:the )?cloud$|^frag (?:die )?cloud\s*"
)
_TRANSLATION = re.compile(
    r"\btranslat\w*|\bhow do (?:you|i) say\b|\bwhat(?:'s| is| does)? .+ (?:in|mean in) "
    r"(?:english|french|german|spanish|italian|portuguese|japanese|chinese|korean|dutch)\b|\bübersetz"
)
_MEMORY = re.compile(
    r"\b(?:remember|do you recall|what did i (?:say|tell|ask)|did i (?:tell|say|mention)|remind me what|"
    r"my (?:favou?rite|birthday|wife|husband|partner|kids?|children|son|daughter|mom|mother|dad|father)\b|"
    r"what(?:'s| is) my\b|who am i\b|forget (?:that|what)|erinner)"
)
_LONG = re.compile(
    r"\b(?:write|compose|draft|story|poem|essay|summari[sz]e|summary|plan (?:a|my)|recipe|itinerary|"
    r"step by step|in detail|explain|describe|compare|pros and cons|list (?:of|all|some)|ideas for)\b"
)
_KNOWLEDGE = re.compile(
    r"^(?:who|what|when|where|why|which|how|whose|is|are|was|were|does|do|did|wer|was|wann|wo|warum|wie)\b"
    r"|\b(?:tell me about|look up|search|find out|news|weather|forecast|capital|population|define|meaning of|"
    r"recommend|wetter)\b"
)
_SMALL_TALK = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|good ?(?:morning|afternoon|evening|night)|nighty? ?night|"
    r"thanks?(?: you)?(?: very much)?|"
    r"thank you(?: so much)?|cheers|bye|goodbye|see you|how are you(?: doing| today)?|how's it going|"
    r"what's up|nice to meet you|you're (?:great|awesome|funny|the best|welcome)|i love you|"
    r"tell me a joke|say something(?: funny| nice)?|who are you|what(?:'s| is) your name|are you there|"
    r"i(?:'m| am) (?:bored|tired|happy|sad|back|home|hungry)|good job|well done|sorry|hallo|danke|guten morgen|"
    r"gute nacht|wie geht'?s|wie geht es dir)\b"
)


@dataclass(frozen=True)
class Signals:
    override: bool = False
    translation: bool = False
    memory: bool = False
    long_answer: bool = False
    knowledge: bool = False
    small_talk: bool = False

    @property
    def needs_cloud(self) -> bool:
        return (
            self.override
            or self.translation
            or self.memory
            or self.long_answer
            or (self.knowledge and not self.small_talk)
        )

    @property
    def beyond_devices(self) -> bool:
        """Nothing a device can do: a question, a translation, a memory, a long answer, or the user's wish."""
        return self.override or self.translation or self.memory or self.long_answer or self.knowledge

    def fired(self) -> list[str]:
        return [name for name, on in asdict(self).items() if on]


def strip_override(text: str) -> tuple[str, bool]:
    """ "ask the cloud what a quasar is" -> ("what a quasar is", True)."""
    lowered = text.strip().lower()
    stripped = _OVERRIDE.sub("", lowered).strip()
    if stripped == lowered:
        return text, False
    return stripped or text, True


def read_signals(text: str, *, override: bool = False) -> Signals:
    lowered = text.strip().lower().rstrip("?.!")
    words = len(lowered.split())
    return Signals(
        override=override,
        translation=bool(_TRANSLATION.search(lowered)),
        memory=bool(_MEMORY.search(lowered)),
        long_answer=bool(_LONG.search(lowered)) or words > 30,
        knowledge=bool(_KNOWLEDGE.search(lowered)),
        small_talk=bool(_SMALL_TALK.match(lowered)) and words <= 10,
    )
