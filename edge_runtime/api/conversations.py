"""The conversations the hub's text route keeps context for: one per app and name, bounded."""

from __future__ import annotations

from collections import OrderedDict

from edge_runtime.brain.context import Conversation

MAX_CONVERSATIONS = 100
MAX_CONVERSATIONS_PER_APP = 8  # so one app cannot push the others' context out
HUB_CONVERSATION = "hub"  # the room's own microphone: every app in the home sees it


def visible_to(app_id: str, conversation: str | None) -> bool:
    """An app sees its own conversations and the hub's, never another app's."""
    return conversation is None or conversation == HUB_CONVERSATION or conversation.startswith(f"{app_id}:")


class Conversations:
    """Each app (and each conversation it names) keeps its own context: "turn it off" means its last.
    Keys are "<app id>:<name>"; an app over its share loses its own oldest, never another's, and the
    least recently used go first once `limit` are kept."""

    def __init__(self, limit: int = MAX_CONVERSATIONS, per_app: int = MAX_CONVERSATIONS_PER_APP) -> None:
        self.limit, self.per_app = limit, per_app
        self._kept: OrderedDict[str, Conversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, key: object) -> bool:
        return key in self._kept

    def get(self, key: str) -> Conversation:
        """`key`'s conversation, made (and the oldest dropped) if it is new."""
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        owner = key.split(":", 1)[0] + ":"
        mine = [k for k in self._kept if k.startswith(owner)]
        for old in mine[: max(0, len(mine) - self.per_app + 1)]:
            del self._kept[old]
        self._kept[key] = Conversation()
        while len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return self._kept[key]
