"""What the brain does to a transcript before matching: one form for numbers, no wake word.

Speech-to-text writes "thirty percent" as often as "30%"; the templates want digits.
"""

from __future__ import annotations

import re

from edge_runtime.skills.builtin import normalize
from edge_runtime.skills.numbers import parse_number

_EN_UNIT = re.compile(r"^(?:percent|per cent|%|degrees?|grad|prozent)$")
_EN_BEFORE = {"to", "at", "by", "auf", "um"}
# Words parse_number reads as numbers that are rarely meant as one here.
_NOT_NUMBERS = {"a", "an", "couple", "oh"}

_DE_UNITS = {
    "null": 0,
    "ein": 1,
    "eins": 1,
    "eine": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_DE_TENS = {
    "zwanzig": 20,
    "dreißig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
    "hundert": 100,
}
_DE_NUMBER = re.compile(
    r"^(?:(?P<unit>"
    + "|".join(sorted(_DE_UNITS, key=len, reverse=True))
    + r")und)?(?P<tens>"
    + "|".join(_DE_TENS)
    + r")$|^(?P<only>"
    + "|".join(sorted(_DE_UNITS, key=len, reverse=True))
    + r")$"
)


def _german_number(word: str) -> int | None:
    m = _DE_NUMBER.match(word)
    if not m:
        return None
    if m.group("only"):
        return _DE_UNITS[m.group("only")]
    return _DE_TENS[m.group("tens")] + (_DE_UNITS[m.group("unit")] if m.group("unit") else 0)


def numbers_to_digits(text: str) -> str:
    """Spoken numbers that set a value ("to thirty percent", "auf einundzwanzig Grad") as digits."""
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        parsed = None if word in _NOT_NUMBERS else parse_number(words[i:])
        if parsed is None and (german := _german_number(word)) is not None:
            parsed = (float(german), 1)
        if parsed is not None and not word[0].isdigit():
            value, used = parsed
            after = words[i + used] if i + used < len(words) else ""
            before = out[-1] if out else ""
            if _EN_UNIT.match(after) or before in _EN_BEFORE:
                out.append(f"{value:g}")
                i += used
                continue
        out.append(word)
        i += 1
    return " ".join(out)


def prepare(text: str) -> str:
    """Lower case, no wake word or punctuation, numbers as digits."""
    return numbers_to_digits(normalize(text)).replace(" per cent", " percent")


# A reason or a circumstance after a command: "unlock the back door so the kids can go out", "set the
# thermostat to 17 while we're out". Never a condition or a time ("when", "if", "until", "at"): those
# change what is meant, and go on whole.
_REASON = re.compile(r"\s+(?:so that|so|because|cause|since|while|now that)\s+\S.*$")


def without_reason(text: str) -> str:
    """The command without a trailing reason clause; the text itself when it has none."""
    return _REASON.sub("", text).strip() or text


# A remark said after a command without a joining word: "turn off the tv dinner's ready", "close the
# blinds it's too sunny", "turn on the porch light we're home". Not a relative clause ("the lamp
# that's in the hall"): that says which device.
_AFTERTHOUGHT = re.compile(
    r"\s+(?!(?:that|which|who|where)(?:'s|'re| is| are)\b)"
    r"(?:(?:the|my|our|your) )?[a-z]+(?:'s|'re|'m| is| are|'ve| has| have)\s+\S.*$"
)


def afterthought(text: str) -> tuple[str, str] | None:
    """(the command, the remark after it), when the text ends in such a remark."""
    m = _AFTERTHOUGHT.search(text)
    if m is None or not text[: m.start()].strip():
        return None
    return text[: m.start()].strip(), m.group().strip()
