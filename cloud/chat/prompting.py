"""Prompts for a base model: a few-shot transcript it continues, since it was never chat-tuned."""

from __future__ import annotations

from cloud.chat.schemas import Message

PREAMBLE = (
    "The following is a conversation between a user and Companion, a friendly home assistant that answers "
    "briefly and correctly.\n\n"
    "User: What is the capital of Italy?\nCompanion: The capital of Italy is Rome.\n"
    "User: How many legs does a spider have?\nCompanion: A spider has eight legs.\n"
)
STOPS = ["\nUser:", "\n"]


def transcript(messages: list[Message], *, budget_chars: int = 6000) -> str:
    """System messages become context lines; the newest turns are kept within the budget
    (the newest is kept whole even past it: the caller decides whether that still fits)."""
    context = [m.text().strip() for m in messages if m.role in ("system", "developer") and m.text().strip()]
    turns = []
    for m in messages:
        if m.role == "user":
            turns.append(f"User: {m.text().strip()}")
        elif m.role == "assistant":
            turns.append(f"Companion: {m.text().strip()}")
    head = PREAMBLE + ("".join(f"({c})\n" for c in context))
    kept: list[str] = []
    used = len(head)
    for turn in reversed(turns):
        if used + len(turn) > budget_chars and kept:
            break
        kept.insert(0, turn)
        used += len(turn) + 1
    return head + "\n".join(kept) + "\nCompanion:"
