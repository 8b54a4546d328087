"""Tolerance of speech-to-text errors: "the kitchen lite", "the bed room lamp", "thermo stat".

Only the words that could be a name are touched: a run of 1-3 words is compared, spaces
removed, with every device name, alias, area and floor (rapidfuzz, C++). The best
non-overlapping replacements win; the score of the weakest becomes the match's confidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# Words of the command itself. A run that starts or ends with one is never a name.
_COMMAND_WORDS = """a all an and any are at by dim down for from in is it its my of off on open close
set switch the their to too turn up what whats lock unlock please percent degrees brightness
ein aus an die der das den dem im in auf zu schalte mach mache bitte prozent grad"""
COMMAND_WORDS = frozenset(_COMMAND_WORDS.split())


@dataclass(frozen=True)
class Repair:
    text: str
    score: float  # 0-1: how sure we are of the weakest replacement
    replaced: tuple[tuple[str, str], ...]


def _compact(phrase: str) -> str:
    return phrase.replace(" ", "").replace("-", "")


def repair(text: str, vocabulary: Iterable[str], *, min_score: float = 80.0) -> Repair | None:
    """`text` with words that sound like a known name replaced by that name, or None if none do."""
    words = text.lower().split()
    names = {_compact(v.lower()): v.lower() for v in vocabulary if len(_compact(v)) >= 3}
    if not words or not names:
        return None
    choices = list(names)
    found: list[tuple[float, int, int, str]] = []
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if run[0] in COMMAND_WORDS or run[-1] in COMMAND_WORDS:
                continue
            phrase = " ".join(run)
            key = _compact(phrase)
            if len(key) < 4 or (key in names and names[key] == phrase):
                continue
            best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=min_score)
            if best is not None:
                found.append((float(best[1]), n, i, names[best[0]]))
    if not found:
        return None
    taken: set[int] = set()
    chosen: list[tuple[int, int, str, float]] = []
    for score, n, i, name in sorted(found, key=lambda f: (-f[0], -f[1], f[2])):
        span = set(range(i, i + n))
        if span & taken:
            continue
        taken |= span
        chosen.append((i, n, name, score))
    out: list[str] = []
    replaced = []
    i = 0
    by_start = {c[0]: c for c in chosen}
    while i < len(words):
        if i in by_start:
            _, n, name, _ = by_start[i]
            replaced.append((" ".join(words[i : i + n]), name))
            out.append(name)
            i += n
        else:
            out.append(words[i])
            i += 1
    return Repair(" ".join(out), min(c[3] for c in chosen) / 100.0, tuple(replaced))
