"""Issue #18: a learned turn detector (Smart Turn v3.2) against deciding a turn by meaning (TurnJudge).

The speech is bench/voice_turns.py's: its mid-pause set ("turn on the ... kitchen light", 300-700 ms
in the middle, Piper and espeak, clean and with noise) and its one-breath requests said whole. The
real Endpointer runs over each WAV (from just after the wake phrase), and at every speculative cut
(a 96 ms pause, where the hub decides whether to act before the endpoint) both decide:

- Smart Turn: complete when p >= 0.5 on the cut's audio (inference alone is timed);
- ours: the quick transcript of the cut (the engines' STT, `quick=True`) and TurnJudge over a
  simulated home, as the hub runs it (quick STT + judge are timed).

Smart Turn is also asked at a 200 ms pause (the cut's audio and what follows, up to 200 ms after
the last voiced frame), as pipecat runs it after its VAD's stop_secs=0.2, to be fair to the model.

A cut is *inside* the request when speech follows it (calling it complete would cut the request),
*final* when it is the request's end (calling it complete acts early; waiting costs the full wait).

    .venv/bin/python -m bench.turn_detector [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.turns import hub_endpointer, judged_home
from bench.voice_turns import MID_PAUSE, ONE_BREATH, WAKE, mid_pause_cases, say
from edge_runtime.engines import Engines
from edge_runtime.frames import AudioIn, EndOfStream, Frame, StartListening, Utterance
from edge_runtime.pipeline.processor import DOWN, Direction, FrameProcessor
from edge_runtime.pipeline.turn import TurnJudge
from edge_runtime.settings import EdgeSettings
from models.turn import TurnDetector
from tests.turn_sets import RATE, silence

BLOCK = 1280  # 80 ms, as the hub's audio loop hands it on
FINAL_SLACK_S = 0.15  # a cut this close to the end of the request's speech is its final pause


class _Cuts(FrameProcessor):
    """The endpointer's speculative utterances, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.cuts: list[Utterance] = []

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, Utterance) and frame.reason == "speculative":
            self.cuts.append(frame)


async def speculative_cuts(settings: EdgeSettings, engines: Engines, audio: np.ndarray) -> list[Utterance]:
    """The real Endpointer as the hub configures it, opened at the first sample; reopened if a turn
    ends before the audio does, so every pause of the request is seen."""
    endpoint = hub_endpointer(settings, engines.vad)
    sink = _Cuts()
    endpoint.link(sink)
    pcm = np.clip(audio, -1.0, 1.0).astype(np.float32)  # the pipeline's one sample format
    for i in range(0, len(pcm), BLOCK):
        if not endpoint.active:
            await endpoint.process_frame(StartListening(), DOWN)
        await endpoint.process_frame(AudioIn(pcm[i : i + BLOCK], t=i / RATE), DOWN)
    if endpoint.active:
        await endpoint.process_frame(EndOfStream(), DOWN)
    return sink.cuts


def cases(voices: Any, quick: bool) -> list[dict[str, Any]]:
    """Each WAV from just after the wake phrase, with when its request's speech ends (s)."""
    out: list[dict[str, Any]] = []
    wakes = {v: len(say(voices, v, WAKE)) / RATE for v in ("piper", "espeak")}
    for label, request, audio in mid_pause_cases(voices, quick):
        start = 0.5 + wakes[label.split()[0]] + 0.2  # into the 0.4 s after the wake phrase
        out.append({"set": "mid-pause", "case": label, "request": request, "audio": audio[int(start * RATE) :]})
    for voice in ("piper", "espeak"):
        for request in ONE_BREATH[: 4 if quick else None]:
            audio = np.concatenate([silence(0.2), say(voices, voice, request), silence(0.8)])
            out.append({"set": "whole request", "case": f"{voice} whole", "request": request, "audio": audio})
    for c in out:
        c["speech_end_s"] = len(c["audio"]) / RATE - 0.8  # every case ends with 0.8 s of silence
    return out


async def decide(
    settings: EdgeSettings, engines: Engines, detector: TurnDetector, judge: TurnJudge, case: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    for utt in await speculative_cuts(settings, engines, case["audio"]):
        started = time.perf_counter()
        p = detector.complete_probability(utt.audio)
        learned_ms = 1000 * (time.perf_counter() - started)
        # As pipecat runs it: once its VAD has heard 200 ms of pause (stop_secs=0.2), 104 ms later.
        begin = round(utt.start_t * RATE)
        p200 = detector.complete_probability(case["audio"][begin : round((utt.speech_end_t + 0.2) * RATE)])
        started = time.perf_counter()
        text = engines.stt.transcribe(utt.audio, quick=True).text
        ours = judge.complete(text)
        ours_ms = 1000 * (time.perf_counter() - started)
        final = utt.speech_end_t >= case["speech_end_s"] - FINAL_SLACK_S
        rows.append(
            {
                "set": case["set"],
                "case": case["case"],
                "request": case["request"],
                "pause": "final" if final else "inside",
                "speech_end_s": round(utt.speech_end_t, 3),
                "heard": text,
                "command": judge.complete(case["request"]),  # the request, heard exactly, is a local command
                "p": round(p, 4),
                "smart_turn": p >= detector.threshold,
                "p_200ms": round(p200, 4),
                "smart_turn_200ms": p200 >= detector.threshold,
                "ours": ours,
                "smart_turn_ms": round(learned_ms, 2),
                "ours_ms": round(ours_ms, 2),
            }
        )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    inside = [r for r in rows if r["pause"] == "inside"]
    final = [r for r in rows if r["pause"] == "final"]
    commands = [r for r in final if r["command"]]
    others = [r for r in final if not r["command"]]
    deciders = {
        "smart turn (p >= 0.5)": lambda r: r["smart_turn"],
        "smart turn at a 200 ms pause": lambda r: r["smart_turn_200ms"],
        "ours (quick STT + TurnJudge)": lambda r: r["ours"],
        "both must agree": lambda r: r["smart_turn"] and r["ours"],
        "either": lambda r: r["smart_turn"] or r["ours"],
    }
    out: dict[str, Any] = {"cuts": len(rows), "inside": len(inside), "final": len(final), "deciders": {}}
    for name, says in deciders.items():
        out["deciders"][name] = {
            "inside_called_complete": sum(map(says, inside)),
            "final_commands_called_complete": sum(map(says, commands)),
            "final_others_called_complete": sum(map(says, others)),
        }
    out["final_commands"], out["final_others"] = len(commands), len(others)
    for key in ("smart_turn_ms", "ours_ms"):
        ms = [r[key] for r in rows]
        out[key] = {"median": float(np.median(ms)), "p90": float(np.percentile(ms, 90))} if ms else {}
    return out


def main() -> None:
    from bench.common import loaded_engines, machine, table, write_json
    from models.registry import Registry
    from models.tts import PiperTTS
    from tests.speech import Voices

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="4 requests per set instead of 10")
    args = parser.parse_args()
    settings = EdgeSettings()
    registry = Registry()
    engines = loaded_engines(settings, registry)
    detector = TurnDetector(registry)
    detector.complete_probability(silence(1.0))  # warm up, as the engines are
    cache = Path(tempfile.gettempdir()) / "companion-speech"
    cache.mkdir(exist_ok=True)
    voices = Voices(PiperTTS(registry, deterministic=True), cache)
    todo = cases(voices, args.quick)

    async def run() -> list[dict[str, Any]]:
        async with judged_home() as judge:
            rows = [r for case in todo for r in await decide(settings, engines, detector, judge, case)]
        return rows

    rows = asyncio.run(run())
    s = summary(rows)
    results = {
        "machine": machine(),
        "command": ".venv/bin/python -m bench.turn_detector" + (" --quick" if args.quick else ""),
        "cases": len(todo),
        "mid_pause_requests": len(MID_PAUSE[: 4 if args.quick else None]),
        "summary": s,
        "rows": rows,
    }
    n_in, n_cmd, n_oth = s["inside"], s["final_commands"], s["final_others"]
    ms = {"smart turn (p >= 0.5)": s["smart_turn_ms"], "ours (quick STT + TurnJudge)": s["ours_ms"]}
    print(
        table(
            f"Speculative cuts of {len(todo)} WAVs ({s['cuts']} cuts): called complete at a 96 ms pause",
            [
                "decider",
                "inside the request (would cut it)",
                "final pause, local command (acts early)",
                "final pause, other request",
                "ms per decision, median (p90)",
            ],
            [
                [
                    name,
                    f"{d['inside_called_complete']}/{n_in}",
                    f"{d['final_commands_called_complete']}/{n_cmd}",
                    f"{d['final_others_called_complete']}/{n_oth}",
                    f"{ms[name]['median']:.0f} ({ms[name]['p90']:.0f})" if name in ms else "",
                ]
                for name, d in s["deciders"].items()
            ],
        )
    )
    print(f"\nwrote {write_json('turn_detector', results)}")


if __name__ == "__main__":
    main()
