"""Whisper's encoder window against WER and milliseconds on the same test speech (issue #18).

    .venv/bin/python -m bench.stt_window

14 commands x (Piper, espeak-ng) x (clean, Gaussian noise at -35 dBFS) = 56 clips; tiny.en int8,
2 threads, greedy. `None` is Whisper's fixed 30 s window (the present default).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, table, write_json
from models.registry import Registry
from models.stt import WhisperSTT
from models.tts import PiperTTS
from tests.speech import Voices
from tests.turn_sets import noisy, words

REQUESTS = [
    "turn on the kitchen light",
    "open the garage door",
    "set a timer for ten minutes",
    "stop",
    "what time is it",
    "lock the front door",
    "dim the bedroom lights to thirty percent",
    "cancel the timer",
    "how much time is left",
    "turn off the lights upstairs",
    "set the living room lamp to fifty percent",
    "book me a flight to paris",
    "what is the weather like tomorrow",
    "turn on the kitchen light and the hallway too",
]
WINDOWS: list[float | None] = [None, 10.0, 7.0, 5.0, 3.0]


def errors(ref: str, hyp: str) -> tuple[int, int]:
    """Word edit distance and reference length (numbers as words)."""
    nums = {"50": "fifty", "50%": "fifty"}
    r = [w for w in words(ref.replace("percent", ""))]
    h = [nums.get(w, w) for w in words(hyp.replace("%", " "))]
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return d[len(h)], len(r)


def main() -> None:
    registry = Registry()
    cache = Path(tempfile.gettempdir()) / "companion-speech"
    cache.mkdir(exist_ok=True)
    voices = Voices(PiperTTS(registry, deterministic=True), cache)
    stt = WhisperSTT(registry)
    clips = [(r, voices.say(v, r)) for v in ("piper", "espeak") for r in REQUESTS]
    clips += [(r, noisy(a, -35.0, i)) for i, (r, a) in enumerate(clips)]
    stt.transcribe(clips[0][1])
    found: dict[str, dict[str, Any]] = {str(w): {"errors": 0, "words": 0, "first": 0, "ms": []} for w in WINDOWS}
    for ref, audio in clips:
        for w in WINDOWS:  # interleaved: the same load for every window
            stt.window_s = w
            started = time.perf_counter()
            text = stt.transcribe(audio).text
            f = found[str(w)]
            f["ms"].append(1000 * (time.perf_counter() - started))
            e, n = errors(ref, text)
            f["errors"] += e
            f["words"] += n
            f["first"] += words(text)[:1] == words(ref)[:1]
    rows = []
    for name, f in found.items():
        f["wer"] = f["errors"] / f["words"]
        f["median_ms"] = float(np.median(f["ms"]))
        rows.append(
            [
                f"{name} s" if name != "None" else "30 s (fixed)",
                f"{100 * f['wer']:.1f} %",
                f"{f['first']}/{len(clips)}",
                f"{f['median_ms']:.0f}",
            ]
        )
    print(
        table(
            f"Whisper tiny.en window: WER and ms on {len(clips)} clips",
            ["window", "WER", "first word", "median ms"],
            rows,
        )
    )
    summary = {w: {k: v for k, v in f.items() if k != "ms"} for w, f in found.items()}
    print(f"\nwrote {write_json('stt_window', {'machine': machine(), 'windows': summary})}")


if __name__ == "__main__":
    main()
