"""Arithmetic and unit conversion, answered on the hub: "what's 7 times 8", "15 percent of 80",
"the square root of 81", "convert 350 fahrenheit to celsius", "how many grams in a pound".

A small grammar over words, never `eval`: a sentence is answered only if all of it is read, so a
question half understood ("how many grams in a cup of flour") goes on to the other routes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from edge_runtime.skills.numbers import ONES, TENS
from edge_runtime.skills.units import Unit, compatible, convert, unit_at

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_BINARY = {
    ("plus",): "plus",
    ("add",): "plus",
    ("and",): "plus",
    ("minus",): "minus",
    ("take", "away"): "minus",
    ("less",): "minus",
    ("times",): "times",
    ("x",): "times",
    ("multiplied", "by"): "times",
    ("divided", "by"): "divided by",
    ("over",): "divided by",
    ("to", "the", "power", "of"): "to the power of",
}
_ASK = re.compile(
    r"^(?:(?:can|could) you (?:please )?|please )?(?:tell me |calculate |compute |work out |figure out |solve )?"
    r"(?:what(?:'s| is| does| are)? |whats |how much (?:is |are |does )?)?(?P<rest>.+?)"
    r"(?: (?:equal|equals|make|makes|come to|please))?\??$"
)
_HOW_MANY = re.compile(
    r"^how many (?P<target>.+?) "
    r"(?:(?:are there |are |is |make |makes |go )?in(?:to)?|is|are|make|makes) (?P<source>.+)$"
)
_CONVERT = re.compile(r"^(?:convert |change )?(?P<source>.+?) (?:in|to|into|as) (?P<target>.+)$")


@dataclass
class Solved:
    intent: str  # "calculate" or "convert"
    reply: str
    value: float | None  # None when there is no answer (dividing by zero)


def spell_symbols(text: str) -> str:
    """ "2+2", "7×8", "15%", "1,000" as words and plain digits, before punctuation is dropped."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text, flags=re.I)
    text = re.sub(r"(?<=\d)\s*%", " percent", text)
    text = re.sub(r"\s*\+\s*", " plus ", text)
    text = re.sub(r"\s*[*×]\s*", " times ", text)
    text = re.sub(r"\s*÷\s*|(?<=\d)\s*/\s*(?=\d)", " divided by ", text)
    text = re.sub(r"(?<=\d)\s+-\s+(?=\d)|(?<=\d)-(?=\d)", " minus ", text)
    return re.sub(r"\s*=\s*\??\s*$", "", text)


def number(words: list[str], i: int) -> tuple[float, int] | None:
    """A number written in digits or words at words[i]: (value, index after it)."""
    if i >= len(words):
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", words[i]):
        return float(words[i]), i + 1
    negative = words[i] in ("negative", "minus")
    start = i + 1 if negative else i
    total, group, j = 0.0, 0.0, start
    while j < len(words):
        w = words[j]
        low = group % 100
        if w in ONES and (low == 0 or (low >= 20 and not low % 10 and ONES[w] < 10)):
            group, j = group + ONES[w], j + 1
            if w == "zero":
                break
        elif w in TENS and not low:
            group, j = group + TENS[w], j + 1
        elif w == "hundred" and 0 < group < 10:
            group, j = group * 100, j + 1
            if words[j : j + 1] == ["and"] and j + 1 < len(words) and words[j + 1] in (*ONES, *TENS):
                j += 1
        elif w in _SCALES and group:
            total, group, j = total + group * _SCALES[w], 0.0, j + 1
        else:
            break
    if j == start:
        return None
    value = total + group
    if words[j : j + 1] == ["point"] and j + 1 < len(words) and words[j + 1] in ONES and ONES[words[j + 1]] < 10:
        digits, j = "", j + 1
        while j < len(words) and words[j] in ONES and ONES[words[j]] < 10:
            digits, j = digits + str(ONES[words[j]]), j + 1
        value += float(f"0.{digits}")
    return (-value if negative else value), j


def _whole(words: list[str]) -> float | None:
    found = number(words, 0)
    return found[0] if found is not None and found[1] == len(words) else None


def spoken(value: float) -> str:
    """7.0 -> "7", 3.14159 -> "3.14", 1234.5678 -> "1235": rounded for speaking."""
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    places = 2 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _about(value: float, said: str) -> str:
    return "" if abs(float(said) - value) < 1e-9 else "about "


class Calculator:
    def solve(self, text: str) -> Solved | None:
        """The answer to a normalized sentence, or None when it is not all a calculation."""
        m = _ASK.match(text.strip())
        if not m:
            return None
        rest = m.group("rest").strip()
        try:
            return self._convert(rest) or self._arithmetic(rest)
        except (OverflowError, ValueError):  # past what a float holds: not ours to answer
            return None

    # --- arithmetic

    def _arithmetic(self, rest: str) -> Solved | None:
        words = rest.split()
        if words[:1] == ["the"]:
            words = words[1:]
        if words[:3] == ["square", "root", "of"] and (value := _whole(words[3:])) is not None:
            if value < 0:
                return Solved("calculate", "A negative number has no real square root.", None)
            root = math.sqrt(value)
            return Solved(
                "calculate", f"The square root of {spoken(value)} is {_about(root, spoken(root))}{spoken(root)}.", root
            )
        first = number(words, 0)
        if first is None:
            return None
        a, i = first
        tail = words[i:]
        if tail in (["squared"], ["cubed"]):
            power = 2 if tail == ["squared"] else 3
            return self._said(f"{spoken(a)} {tail[0]}", a**power)
        if tail[:2] == ["percent", "of"] and (b := _whole(tail[2:])) is not None:
            return self._said(f"{spoken(a)} percent of {spoken(b)}", a * b / 100)
        for op_words, op in _BINARY.items():
            n = len(op_words)
            if tuple(tail[:n]) == op_words and (b := _whole(tail[n:])) is not None:
                return self._binary(a, op, b)
        return None

    def _binary(self, a: float, op: str, b: float) -> Solved | None:
        said = f"{spoken(a)} {op} {spoken(b)}"
        if op == "divided by" and b == 0:
            return Solved("calculate", "You can't divide by zero, so there is no answer to that.", None)
        if op == "to the power of":
            if abs(b) > 100 or (a == 0 and b < 0) or (a < 0 and b != int(b)):
                return None
            return self._said(said, a**b)
        value = {"plus": a + b, "minus": a - b, "times": a * b}.get(op)
        return self._said(said, a / b if value is None else value)

    @staticmethod
    def _said(question: str, value: float) -> Solved:
        answer = spoken(value)
        return Solved("calculate", f"{question} is {_about(value, answer)}{answer}.", value)

    # --- units

    def _convert(self, rest: str) -> Solved | None:
        if (m := _HOW_MANY.match(rest)) is not None:
            target = _unit(m.group("target").split())
            amount = _amount(m.group("source").split())
            if target is None or amount is None:
                return None
            return self._converted(amount[0], amount[1], target, how_many=True)
        if (m := _CONVERT.match(rest)) is not None:
            amount = _amount(m.group("source").split())
            target = _unit(m.group("target").split())
            if target is None or amount is None:
                return None
            return self._converted(amount[0], amount[1], target, how_many=False)
        return None

    def _converted(self, value: float, source: Unit | str, target: Unit, *, how_many: bool) -> Solved | None:
        if isinstance(source, str):  # "degrees" alone: the other of Celsius and Fahrenheit
            others = {"degree Celsius": "fahrenheit", "degree Fahrenheit": "celsius"}
            if target.singular not in others:
                return None
            source = _unit([others[target.singular]]) or target
        pair = compatible(source, target)
        if pair is None:
            return None
        source, target = pair
        result = convert(value, source, target)
        answer = spoken(round(result) if source.dimension == "temperature" and abs(result) >= 10 else result)
        about = _about(result, answer)
        if how_many:
            amount = _article(source.singular) if value == 1 else f"{spoken(value)} {source.name(value)}"
            verb = "is" if float(answer) == 1 else "are"
            reply = f"There {verb} {about}{answer} {target.name(float(answer))} in {amount}."
        else:
            reply = f"{spoken(value)} {source.name(value)} is {about}{answer} {target.name(float(answer))}."
        return Solved("convert", reply[0].upper() + reply[1:], result)


def _unit(words: list[str]) -> Unit | None:
    found = unit_at(words, 0)
    return found[0] if found is not None and found[1] == len(words) else None


def _amount(words: list[str]) -> tuple[float, Unit | str] | None:
    """ "350 fahrenheit", "a pound", "20 degrees": the number and its unit ("degrees" when bare)."""
    if words[:1] in (["a"], ["an"]):
        found: tuple[float, int] | None = (1.0, 1)
    else:
        found = number(words, 0)
    if found is None:
        return None
    value, i = found
    if words[i:] in (["degrees"], ["degree"]):
        return value, "degrees"
    unit = _unit(words[i:])
    return (value, unit) if unit is not None else None


def _article(name: str) -> str:
    return f"{'an' if name[0] in 'aeiou' or name.startswith('hour') else 'a'} {name}"
