"""Spelling a word: "how do you spell necessary", "spell necessary", "how is 'rhythm' spelled" ->
"Necessary is spelled N, E, C, E, S, S, A, R, Y." The word as the transcript heard it; only one
word of letters (anything else is not this skill's)."""

from __future__ import annotations

import re
from typing import Any

_ASK = re.compile(
    r"^(?:please )?(?:(?:can|could|would|will) you (?:please )?)?"
    r"(?:how (?:do|would|should|can|does) (?:you|i|we|one|someone) spell|spell|spell out|what's the spelling of"
    r"|what is the spelling of|how to spell|how's|how is|what's|what is)"
    r"(?: the word)? (?P<word>'?[^\W\d_]+'?)(?: spelled| spelt)?(?: please)?$"
)
_NOT_A_WORD = {"it", "that", "this", "me", "them", "something", "words", "a", "the"}


MAX_LETTERS = 45  # the longest words in English dictionaries; past that it is no word to spell


def spelled(text: str) -> str | None:
    """The word `text` asks to spell (lowercase, as heard), or None."""
    m = _ASK.match(text)
    if m is None:
        return None
    asks_how = text.startswith(("how's", "how is", "what's", "what is"))
    if asks_how and not re.search(r"\bspel(?:led|t)$", text) and "spelling" not in text:
        return None  # "how is grandma", "what's dinner": not about spelling
    word = m.group("word").strip("'")
    if word in _NOT_A_WORD or not word.isalpha() or len(word) > MAX_LETTERS:
        return None  # not a word to spell aloud: it goes on to the other routes
    return word


def spell(word: str) -> tuple[str, str, dict[str, Any]]:
    letters = ", ".join(word.upper())
    return "spell", f"{word.capitalize()} is spelled {letters}.", {"word": word, "letters": list(word.upper())}
