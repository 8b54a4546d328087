"""Whisper tiny.en against Whisper base on the same test speech: WER and milliseconds (issue #18).

    .venv/bin/python -m bench.stt_models [--flights 12]

English: bench/stt_window.py's 14 commands x (Piper, espeak-ng) x (clean, Gaussian noise at
-35 dBFS) = 56 clips, through both models. German (base only; tiny.en is English-only): 10
commands of tests/eval/home_de.toml's household in espeak-ng's German voice, clean and noisy.
The demo's line "Book me a flight to Paris.": the deterministic Piper voice once, and the demo's
voice (Piper with its sampling noise on) `--flights` times; the same audio for both models.
Both int8 on 2 threads, greedy, Whisper's 30 s window (the hub's default).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, table, write_json
from bench.stt_window import REQUESTS
from models.registry import Registry
from models.stt import WhisperSTT
from models.tts import PiperTTS
from tests.speech import Voices
from tests.turn_sets import noisy

MODELS = {"tiny.en": ("stt-whisper-tiny-en", "en"), "base": ("stt-whisper-base", "en")}
GERMAN = [
    "Schalte das Küchenlicht ein",
    "Mach das Küchenlicht aus",
    "Dimme die Stehlampe auf dreißig Prozent",
    "Stelle die Heizung auf einundzwanzig Grad",
    "Ist die Haustür abgeschlossen",
    "Schließe die Haustür auf",
    "Öffne den Rollladen",
    "Wie spät ist es",
    "Wie wird das Wetter morgen",
    "Stelle einen Timer auf zehn Minuten",
]
FLIGHT = "Book me a flight to Paris."
NUMBERS = {
    "10": "ten",
    "30": "thirty",
    "50": "fifty",
    "21": "einundzwanzig",
    "zehn": "zehn",
    "%": "percent",
    "prozent": "percent",
}


def words(text: str, *, german: bool = False) -> list[str]:
    text = text.lower().replace("%", " % ").replace("-", " ")
    found = re.findall(r"[a-z0-9äöüß%']+", text)
    out = [NUMBERS.get(w, w) for w in found]
    if german:
        return [{"30": "dreißig", "thirty": "dreißig", "ten": "zehn"}.get(w, w) for w in out]
    return [w for w in out if w != "percent"]  # "thirty percent" and "30%" alike


def errors(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(hyp) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
    return d[len(hyp)]


def score(stt: WhisperSTT, clips: list[tuple[str, np.ndarray]], *, german: bool = False) -> dict[str, Any]:
    ms, errs, total, exact, heard = [], 0, 0, 0, []
    for ref, audio in clips:
        started = time.perf_counter()
        text = stt.transcribe(audio).text
        ms.append(1000 * (time.perf_counter() - started))
        r, h = words(ref, german=german), words(text, german=german)
        errs += errors(r, h)
        total += len(r)
        exact += r == h
        heard.append(text)
    audio_s = sum(len(a) for _, a in clips) / 16000
    return {
        "clips": len(clips),
        "wer": errs / total,
        "exact": exact,
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "rtf": sum(ms) / 1000 / audio_s,
        "heard": heard,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flights", type=int, default=12, help="syntheses of the demo's line in the demo's voice")
    args = parser.parse_args()
    registry = Registry()
    cache = Path(tempfile.gettempdir()) / "companion-speech"
    cache.mkdir(exist_ok=True)
    voices = Voices(PiperTTS(registry, deterministic=True), cache)
    demo_voice = PiperTTS(registry)  # the demo's: Piper samples durations and prosody noise
    demo_voice.cache_entries = 0  # a fresh synthesis each time, not the kept audio of the first
    english = [(r, voices.say(v, r)) for v in ("piper", "espeak") for r in REQUESTS]
    english += [(r, noisy(a, -35.0, i)) for i, (r, a) in enumerate(english)]
    german = [(r, voices.espeak(r, voice="de")) for r in GERMAN]
    german += [(r, noisy(a, -35.0, 100 + i)) for i, (r, a) in enumerate(german)]
    flights = [voices.piper(FLIGHT)] + [
        Voices(demo_voice, cache).piper(FLIGHT) for _ in range(args.flights)
    ]  # one deterministic, then the demo voice's
    results: dict[str, dict[str, Any]] = {}
    for name, (model_id, language) in MODELS.items():
        started = time.perf_counter()
        stt = WhisperSTT(registry, model_id, language=language)
        load_ms = 1000 * (time.perf_counter() - started)
        stt.transcribe(english[0][1])  # first inference allocates
        found: dict[str, Any] = {"model": model_id, "load_ms": load_ms, "english": score(stt, english)}
        if name == "base":
            stt.language = "de"
            found["german"] = score(stt, german, german=True)
            stt.language = "en"
        heard = [stt.transcribe(a).text for a in flights]
        found["flight"] = {
            "deterministic": heard[0],
            "demo_voice_first_word": sum(words(h)[:1] == ["book"] for h in heard[1:]),
            "demo_voice_exact": sum(words(h) == words(FLIGHT) for h in heard[1:]),
            "syntheses": len(heard) - 1,
            "heard": dict(Counter(heard[1:]).most_common()),
        }
        results[name] = found
    rows = []
    for name, f in results.items():
        for lang in ("english", "german"):
            if lang in f:
                s = f[lang]
                rows.append(
                    [
                        name,
                        lang,
                        s["clips"],
                        f"{100 * s['wer']:.1f} %",
                        f"{s['exact']}/{s['clips']}",
                        f"{s['median_ms']:.0f}",
                        f"{s['p90_ms']:.0f}",
                        f"{s['rtf']:.3f}",
                    ]
                )
    print(
        table(
            "Whisper tiny.en and base: WER and ms per clip (int8, 2 threads, 30 s window)",
            ["model", "speech", "clips", "WER", "exact", "median ms", "p90 ms", "RTF"],
            rows,
        )
    )
    print()
    flight_rows = [
        [
            name,
            f["flight"]["deterministic"],
            f"{f['flight']['demo_voice_first_word']}/{f['flight']['syntheses']}",
            f"{f['flight']['demo_voice_exact']}/{f['flight']['syntheses']}",
            "; ".join(f"{t} x{n}" for t, n in f["flight"]["heard"].items()),
        ]
        for name, f in results.items()
    ]
    print(
        table(
            f"'{FLIGHT}' (Piper joe): the deterministic voice, and the demo's voice {args.flights} times",
            ["model", "deterministic voice", "first word 'book'", "exact", "demo voice heard"],
            flight_rows,
        )
    )
    print("\nload ms: " + ", ".join(f"{n} {f['load_ms']:.0f}" for n, f in results.items()))
    path = write_json("stt_models", {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "models": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
