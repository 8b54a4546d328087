"""A command recogniser built from the registry's phrases against free decoding (issue #18).

    .venv/bin/python -m bench.stt_phrases

The same 56 clips as bench/stt_window.py (14 commands x Piper/espeak x clean/noise at -35 dBFS),
plus 6 sentences the grammar does not hold (x4 the same way) to count wrong actions. No new model:
Whisper tiny.en (int8, 2 threads) encodes the audio once and CTranslate2's `align` scores every
candidate phrase's tokens (its `text_token_probs`), batched; the best mean (or sum) log-probability
wins. The candidates come from the evaluation home (tests/eval/home.toml: 30 devices, 9 rooms,
2 floors) the way a hub would expand its registry: per-device on/off, open/close, lock/unlock,
brightness and temperature, per-room lights, per-floor lights, clock and timers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, table, write_json
from bench.stt_window import REQUESTS, errors
from models.audio import RATE
from models.registry import Registry
from models.stt import WhisperSTT
from models.tts import PiperTTS
from tests.eval.home import home_config
from tests.speech import Voices
from tests.turn_sets import noisy

# Sentences no phrase of the home holds: a pick among the phrases would be a wrong action.
OUT_OF_GRAMMAR = [
    "what's the weather tomorrow",
    "tell me a joke",
    "play some jazz in the kitchen",
    "turn on the dishwasher",
    "open the kitchen window",
    "remind me to call mom at five",
]
NUMBERS = {
    1: "one",
    2: "two",
    3: "three",
    5: "five",
    10: "ten",
    15: "fifteen",
    18: "eighteen",
    20: "twenty",
    21: "twenty one",
    22: "twenty two",
    30: "thirty",
    40: "forty",
    45: "forty five",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    75: "seventy five",
    80: "eighty",
    90: "ninety",
    100: "one hundred",
}
PERCENTS = [10, 20, 30, 50, 70, 100]  # the default grammar; --percents widens it for the growth table
MINUTES = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60]
DEGREES = [18, 20, 21, 22]
# Rejection: (mean log-probability at least, the closing "."/"?" log-probability at least).
# A phrase that is only the start of what was said ("turn on the kitchen light" of "... and the
# hallway too") scores well on its words but badly on its closing "."; the end rule catches it.
REJECT: list[tuple[float, float | None]] = [(-0.5, None), (-0.8, None), (-1.2, None), (-2.5, None)]
REJECT += [(-1.0, -4.0), (-2.0, -4.0)]
CHOSEN = (-2.0, -4.0)
PRUNE_K = 8


@dataclass(frozen=True)
class Phrase:
    words: str  # the canonical words, what the hub would act on ("set a timer for ten minutes")
    said: str  # as Whisper writes it, what is scored (" Set a timer for 10 minutes.")


def phrase(template: str, question: bool = False, **numbers: int) -> Phrase:
    words = template.format(**{k: NUMBERS[v] for k, v in numbers.items()}).replace("%", " percent")
    said = template.format(**{k: str(v) for k, v in numbers.items()})
    return Phrase(" ".join(words.split()), " " + said[:1].upper() + said[1:] + ("?" if question else "."))


def grammar(percents: list[int] = PERCENTS) -> list[Phrase]:
    """The phrases a hub would expand from its registry: names, aliases, rooms, floors, builtins."""
    home = home_config()
    out: list[Phrase] = []
    rooms: dict[str, set[str]] = {}
    for d in home["devices"]:
        kind, area = d["kind"], d["area"].lower()
        rooms.setdefault(area, set()).add(kind)
        if "lamp" in d["name"].lower():
            rooms[area].add("lamp")
        for name in [d["name"].lower(), *(a.lower() for a in d.get("aliases", []))]:
            if kind in ("light", "switch", "fan"):
                out += [phrase(f"turn on the {name}"), phrase(f"turn off the {name}")]
            if kind == "light":
                out += [phrase(f"set the {name} to {{n}}%", n=n) for n in percents]
                out += [phrase(f"dim the {name} to {{n}}%", n=n) for n in percents]
            if kind == "cover":
                out += [phrase(f"open the {name}"), phrase(f"close the {name}")]
            if kind == "lock":
                out += [phrase(f"lock the {name}"), phrase(f"unlock the {name}")]
            if kind == "climate":
                out += [phrase(f"set the {name} to {{n}} degrees", n=n) for n in DEGREES]
    for area, kinds in rooms.items():
        if "light" in kinds:
            out += [phrase(f"turn on the {area} lights"), phrase(f"turn off the {area} lights")]
            out += [phrase(f"dim the {area} lights to {{n}}%", n=n) for n in percents]
        if "lamp" in kinds:
            out += [phrase(f"set the {area} lamp to {{n}}%", n=n) for n in percents]
    for floor in ("upstairs", "downstairs"):
        out += [phrase(f"turn on the lights {floor}"), phrase(f"turn off the lights {floor}")]
    out += [phrase("turn on all the lights"), phrase("turn off all the lights")]
    out += [phrase("set a timer for {n} minutes", n=n) for n in MINUTES]
    out += [phrase(t) for t in ("stop", "cancel", "never mind", "cancel the timer", "pause the timer")]
    out += [phrase(t, question=True) for t in ("what time is it", "what's the date", "how much time is left")]
    seen: dict[str, Phrase] = {}
    for p in out:
        seen.setdefault(p.said, p)
    return list(seen.values())


class Scorer:
    """One encoder pass, then every candidate's tokens scored against it (CTranslate2 `align`)."""

    def __init__(self, stt: WhisperSTT) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = stt._model
        tok = Tokenizer(self.model.hf_tokenizer, False, task="transcribe", language="en")
        self.start = [*tok.sot_sequence, tok.no_timestamps]
        self.tokens: dict[str, list[int]] = {}
        self.tok = tok

    def encode(self, audio: np.ndarray, window_s: float | None) -> tuple[Any, int]:
        """The padded audio's encoder output; `window_s=None`: the audio alone (cost follows it)."""
        pad = np.zeros(RATE // 5, dtype=np.float32)
        padded = np.concatenate([pad, audio, pad])
        samples = max(round((window_s or 0) * RATE), len(padded))
        features = self.model.feature_extractor(np.pad(padded, (0, samples - len(padded))), padding=0)
        features = features[:, : samples // 320 * 2]
        return np.array(self.model.encode(features)), features.shape[-1] // 2

    def score(self, encoded: np.ndarray, frames: int, phrases: list[Phrase], batch: int = 64) -> np.ndarray:
        """Per phrase: sum, mean and lowest of the log-probabilities of its tokens, and the last one's.
        `align` gives the end of text no probability (always 0), so the closing "." or "?" stands for
        "the speech ends here"."""
        import ctranslate2

        out = np.zeros((len(phrases), 4))
        for s in range(0, len(phrases), batch):
            chunk = phrases[s : s + batch]
            toks = [self.tokens.setdefault(p.said, self.tok.encode(p.said)) for p in chunk]
            view = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(encoded, len(chunk), 0)))
            for i, r in enumerate(self.model.model.align(view, self.start, toks, [frames] * len(chunk))):
                lp = np.log(np.maximum(np.asarray(r.text_token_probs), 1e-30))
                out[s + i] = (lp.sum(), lp.mean(), lp.min(), lp[-1])
        return out


def word_distance(a: str, b: str) -> int:
    return errors(a, b)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=None, help="encoder window of the phrase scorer (s)")
    ap.add_argument("--summary", action="store_true", help="recompute the options from the last JSON's clips")
    args = ap.parse_args()
    if args.summary:
        import json

        from bench.common import RESULTS

        last = json.loads((RESULTS / "stt_phrases.json").read_text())
        ins, extra = [r for r in last["clips"] if not r["extra"]], [r for r in last["clips"] if r["extra"]]
        last["options"] = _options(ins, extra, last["candidates"])
        _print(last["options"], ins, extra, last["candidates"])
        print(f"\nwrote {write_json('stt_phrases', last)}")
        return
    registry = Registry()
    cache = Path(tempfile.gettempdir()) / "companion-speech"
    cache.mkdir(exist_ok=True)
    voices = Voices(PiperTTS(registry, deterministic=True), cache)
    stt = WhisperSTT(registry)
    scorer = Scorer(stt)
    phrases = grammar()
    index = {p.words: i for i, p in enumerate(phrases)}
    clips = [(r, voices.say(v, r)) for v in ("piper", "espeak") for r in REQUESTS]
    clips += [(r, noisy(a, -35.0, i)) for i, (r, a) in enumerate(clips)]
    oog = [(r, voices.say(v, r)) for v in ("piper", "espeak") for r in OUT_OF_GRAMMAR]
    oog += [(r, noisy(a, -35.0, 100 + i)) for i, (r, a) in enumerate(oog)]
    stt.transcribe(clips[0][1])
    scorer.score(*scorer.encode(clips[0][1], args.window), phrases[:8])

    rows: list[dict[str, Any]] = []
    for n, (ref, audio) in enumerate(clips + oog):
        row: dict[str, Any] = {"ref": ref, "in_grammar": ref in index, "extra": n >= len(clips)}
        for name, window in (("free_30s", None), ("free_10s", 10.0)):
            stt.window_s = window
            started = time.perf_counter()
            row[name] = stt.transcribe(audio).text
            row[name + "_ms"] = 1000 * (time.perf_counter() - started)
        started = time.perf_counter()
        scores = scorer.score(*scorer.encode(audio, args.window), phrases)
        row["phrases_ms"] = 1000 * (time.perf_counter() - started)
        for k, rule in enumerate(("sum", "mean")):
            best = int(np.argmax(scores[:, k]))
            row[rule] = phrases[best].words
            row[rule + "_score"] = float(scores[best, 1])
            row[rule + "_min"], row[rule + "_end"] = float(scores[best, 2]), float(scores[best, 3])
        # Pruned: the quick pass's own transcript picks the K nearest phrases by words; only they are scored.
        started = time.perf_counter()
        near = sorted(phrases, key=lambda p: word_distance(p.words, row["free_10s"]))[:PRUNE_K]
        s = scorer.score(*scorer.encode(audio, args.window), near)
        best = int(np.argmax(s[:, 1]))
        row["pruned"], row["pruned_score"] = near[best].words, float(s[best, 1])
        row["pruned_min"], row["pruned_end"] = float(s[best, 2]), float(s[best, 3])
        row["pruned_ms"] = row["free_10s_ms"] + 1000 * (time.perf_counter() - started)
        rows.append(row)
        print(f"{n + 1}/{len(clips) + len(oog)} {ref!r}: {row['mean']!r} {row['mean_score']:.2f}", flush=True)
    ins, extra = [r for r in rows if not r["extra"]], [r for r in rows if r["extra"]]
    summary = _options(ins, extra, len(phrases))
    _print(summary, ins, extra, len(phrases))
    growth = _growth(scorer, clips, args.window)
    print()
    print(
        table(
            "Phrase scoring: ms against the number of candidates (4 clips, median)",
            ["candidates", "median ms", "ms per candidate"],
            [[n, f"{ms:.0f}", f"{ms / n:.1f}"] for n, ms in growth.items()],
        )
    )
    result = {
        "machine": machine(),
        "command": ".venv/bin/python -m bench.stt_phrases",
        "window_s": args.window,
        "candidates": len(phrases),
        "options": summary,
        "growth_ms": growth,
        "clips": rows,
    }
    print(f"\nwrote {write_json('stt_phrases', result)}")


Reject = tuple[float, float | None] | None


def _pick(r: dict[str, Any], key: str, reject: Reject) -> tuple[str, bool]:
    """The option's text and whether it acted on a phrase (False: fell back to the 30 s pass)."""
    if reject is not None and (
        r[key + "_score"] < reject[0] or (reject[1] is not None and r[key + "_end"] < reject[1])
    ):
        return r["free_30s"], False
    return r[key], True


def _name(key: str, reject: Reject) -> str:
    if reject is None:
        return key
    return f"{key}, reject mean < {reject[0]}" + (f" or end < {reject[1]}" if reject[1] is not None else "")


def _options(ins: list[dict[str, Any]], extra: list[dict[str, Any]], n: int) -> dict[str, Any]:
    said = {p.words: p.said for p in grammar()}  # scored as Whisper writes it ("30%"): the same normaliser
    specs: list[tuple[str, Reject, int]] = [
        ("free_30s", None, 0),
        ("free_10s", None, 0),
        ("sum", None, n),
        ("mean", None, n),
        *(("mean", t, n) for t in REJECT),
        ("pruned", None, PRUNE_K),
        ("pruned", CHOSEN, PRUNE_K),
    ]
    out: dict[str, Any] = {}
    for key, threshold, count in specs:
        name = _name(key, threshold)
        e = w = exact = acted = wrong = oog_acted = 0
        ms: list[float] = []
        for r in ins:
            if key.startswith("free"):
                text, act = r[key], False
                ms.append(r[key + "_ms"])
            else:
                text, act = _pick(r, key, threshold)
                base = r["phrases_ms"] if key != "pruned" else r["pruned_ms"]
                ms.append(base + (0.0 if act else r["free_30s_ms"]))
            d, words = errors(r["ref"], said.get(text, text) if act else text)
            e, w, exact = e + d, w + words, exact + (d == 0)
            acted += act
            wrong += act and text != r["ref"]
        for r in extra:
            if not key.startswith("free"):
                oog_acted += _pick(r, key, threshold)[1]
        out[name] = {
            "candidates": count,
            "reject": threshold,
            "wer": e / w,
            "exact": exact,
            "clips": len(ins),
            "acted": acted,
            "wrong_actions": wrong,
            "oog_in_56_acted": sum(
                1 for r in ins if not r["in_grammar"] and not key.startswith("free") and _pick(r, key, threshold)[1]
            ),
            "oog_extra_acted": oog_acted,
            "oog_extra": len(extra),
            "median_ms": float(np.median(ms)),
            "p90_ms": float(np.percentile(ms, 90)),
        }
    return out


def _print(summary: dict[str, Any], ins: list[dict[str, Any]], extra: list[dict[str, Any]], n: int) -> None:
    oog56 = sum(1 for r in ins if not r["in_grammar"])
    rows = []
    for name, s in summary.items():
        free = name.startswith("free")
        rows.append(
            [
                name,
                s["candidates"] or "-",
                f"{100 * s['wer']:.1f} %",
                f"{s['exact']}/{s['clips']}",
                "-" if free else f"{s['acted'] - s['wrong_actions']}/{s['acted']}",
                "-" if free else f"{s['wrong_actions']} ({s['oog_in_56_acted']}/{oog56} out of grammar)",
                "-" if free else f"{s['oog_extra_acted']}/{s['oog_extra']}",
                f"{s['median_ms']:.0f}",
                f"{s['p90_ms']:.0f}",
            ]
        )
    print(
        table(
            f"STT options on the {len(ins)} clips of bench/stt_window.py ({n} phrases in the grammar)",
            [
                "option",
                "candidates",
                "WER",
                "exact",
                "acted: right/all",
                "wrong actions",
                "extra out-of-grammar acted",
                "median ms",
                "p90 ms",
            ],
            rows,
        )
    )


def _growth(scorer: Scorer, clips: list[tuple[str, np.ndarray]], window: float | None) -> dict[int, float]:
    big = grammar(percents=sorted(k for k in NUMBERS if k <= 100))
    found: dict[int, float] = {}
    for n in (50, 200, 800):
        ms = []
        for _, audio in clips[:4]:
            started = time.perf_counter()
            scorer.score(*scorer.encode(audio, window), (big * 2)[:n])
            ms.append(1000 * (time.perf_counter() - started))
        found[n] = float(np.median(ms))
    return found


if __name__ == "__main__":
    main()
