"""The user's synced memory, on the hub: "remember that ..." is kept at once (offline too) and
reaches the cloud and the app through sync; "what do you remember about ..." is answered from it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from sync.document import SyncedDoc

_REMEMBER = re.compile(r"^(?:please )?remember(?: that)? (?P<what>.{3,})$")
_RECALL = re.compile(
    r"^(?:what do you (?:remember|know) about|what did i (?:tell|say to) you about|do you remember|"
    r"what(?:'s| is) my )(?P<what>.+?)$"
)


@dataclass
class Recalled:
    text: str
    item_id: str
    score: float


class LocalMemory:
    def __init__(self, doc: SyncedDoc) -> None:
        self.doc = doc

    def remember(self, text: str) -> str | None:
        """The new item's id, if `text` asks to remember something."""
        m = _REMEMBER.match(_plain(text))
        if not m:
            return None
        what = m.group("what")
        return self.doc.add_memory(what[0].upper() + what[1:], source="voice")

    def recall(self, text: str, *, min_score: float = 75.0) -> Recalled | None:
        m = _RECALL.match(_plain(text))
        if not m:
            return None
        about = m.group("what")
        best: Recalled | None = None
        for item_id, item in self.doc.memory.items():
            stored = str(item.get("text", ""))
            score = fuzz.partial_ratio(about, stored.lower())
            if score >= min_score and (best is None or score > best.score):
                best = Recalled(stored, item_id, score)
        return best


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().strip(" ?.!"))
