"""Partial transcripts while the user speaks, against today's early pass (issue #18).

    .venv/bin/python -m bench.stt_partial

The same 56 clips as bench/stt_window.py (14 commands x Piper/espeak x clean/noise at -35 dBFS), each
with 0.3 s of silence before and 1.0 s after (the noise is added over the padded clip). The real
Endpointer (Silero VAD, the hub's settings) is fed 80 ms blocks as the audio loop hands them on.
Every P ms of speech, while speech is going on (the endpointer is in speech and not in a pause of
one VAD frame or more), the quick pass (tiny.en, `quick=True`: the 10 s window) transcribes the
audio the endpointer holds so far. The STT lane runs one call at a time: a partial that falls due
while the previous one would still be running in real time (audio time against the sum of the
measured call times) is skipped. At the final pause the early cut's quick pass (today) and the
30 s pass on the same audio (for WER) are run too.

Commands are compared by meaning: TurnJudge with the builtins and a DeviceSkill over the simulated
home of tests/turn_sets.py (`with_home`: kitchen and hallway lights, bedroom lamp, garage door,
front door), as the hub's turn decision sees them. Timing: each distinct prefix is transcribed once
and its time reused by every P that asks for it (the lane simulation is otherwise the same).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, table, write_json
from bench.stt_window import REQUESTS, errors
from bench.turns import hub_endpointer, judged_home
from edge_runtime.frames import AudioIn, EndOfStream, Frame, StartListening, Utterance
from edge_runtime.pipeline.processor import DOWN, Direction, FrameProcessor
from edge_runtime.pipeline.turn import TurnJudge
from edge_runtime.settings import EdgeSettings
from models.audio import RATE
from models.registry import Registry
from models.stt import WhisperSTT
from models.tts import PiperTTS
from models.vad import SileroVad
from tests.speech import Voices
from tests.turn_sets import noisy, silence

BLOCK = 1280  # 80 ms, as the hub's audio loop hands it on
PERIODS_MS = [240, 480, 960]
EARLY_S, DECIDE_S = 0.032, 0.096  # today: STT starts 32 ms into the pause, the decision at 96 ms


class _Sink(FrameProcessor):
    def __init__(self) -> None:
        super().__init__()
        self.utterances: list[Utterance] = []

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, Utterance):
            self.utterances.append(frame)


class Lane:
    """The quick pass, with each audio prefix transcribed (and timed) once."""

    def __init__(self, stt: WhisperSTT) -> None:
        self.stt = stt
        self.seen: dict[tuple[int, int], tuple[str, float, float]] = {}

    def quick(self, clip: int, audio: np.ndarray) -> tuple[str, float, float]:
        """(text, wall s, CPU s) of one quick call."""
        key = (clip, len(audio))
        if key not in self.seen:
            wall, cpu = time.perf_counter(), time.process_time()
            text = self.stt.transcribe(audio, quick=True).text
            self.seen[key] = (text, time.perf_counter() - wall, time.process_time() - cpu)
        return self.seen[key]


async def stream(
    settings: EdgeSettings, vad: SileroVad, audio: np.ndarray, period_s: float, partial: Callable[[np.ndarray], Any]
) -> tuple[list[dict[str, Any]], Utterance | None, float | None]:
    """Feed the clip; run `partial` (returns (text, wall s, CPU s)) on the lane's schedule. Returns
    the partials that ran, the early cut of the final pause, and when speech started (s)."""
    endpoint = hub_endpointer(settings, vad)
    sink = _Sink()
    endpoint.link(sink)
    await endpoint.process_frame(StartListening(), DOWN)
    pcm = np.clip(audio, -1.0, 1.0).astype(np.float32)  # the pipeline's one sample format
    partials: list[dict[str, Any]] = []
    started: float | None = None
    due = 0.0
    lane_free = 0.0
    for i in range(0, len(pcm), BLOCK):
        await endpoint.process_frame(AudioIn(pcm[i : i + BLOCK], t=i / RATE), DOWN)
        if not endpoint.active:
            break
        now = (i + BLOCK) / RATE
        if endpoint._in_speech and started is None:
            started, due = now, now + period_s
        speaking = endpoint._in_speech and endpoint._silence_run < endpoint.early_frames
        if started is None or now + 1e-9 < due:
            continue
        due += period_s * (1 + int((now - due) // period_s))  # the next multiple of P after now
        if not speaking:
            continue
        if lane_free > now:  # the previous partial is still running in real time: skip this one
            partials.append({"at_s": round(now, 3), "skipped": True})
            continue
        text, wall, cpu = partial(np.concatenate(endpoint._speech))
        lane_free = now + wall
        partials.append({"at_s": round(now, 3), "text": text, "ms": 1000 * wall, "cpu_ms": 1000 * cpu})
    if endpoint.active:
        await endpoint.process_frame(EndOfStream(), DOWN)
    final = next((u for u in sink.utterances if u.final), None)
    early = [u for u in sink.utterances if u.reason == "early"]
    if final is not None:
        early = [u for u in early if abs(u.speech_end_t - final.speech_end_t) < 1e-6]
    return partials, (early[-1] if early else None), started


def main() -> None:
    settings = EdgeSettings()
    registry = Registry()
    cache = Path(tempfile.gettempdir()) / "companion-speech"
    cache.mkdir(exist_ok=True)
    voices = Voices(PiperTTS(registry, deterministic=True), cache)
    stt = WhisperSTT(registry)
    vad = SileroVad(registry)
    clips = [
        (r, np.concatenate([silence(0.3), voices.say(v, r), silence(1.0)]))
        for v in ("piper", "espeak")
        for r in REQUESTS
    ]
    clips += [(r, noisy(a, -35.0, i)) for i, (r, a) in enumerate(clips)]
    stt.transcribe(clips[0][1])
    stt.transcribe(clips[0][1], quick=True)
    lane = Lane(stt)
    load = [os.getloadavg()[0]]

    async def run() -> list[dict[str, Any]]:
        async with judged_home() as judge:
            rows = []
            for n, (ref, audio) in enumerate(clips):
                rows.append(await one_clip(settings, vad, lane, judge, n, ref, audio))
                load.append(os.getloadavg()[0])
        return rows

    rows = asyncio.run(run())
    summary = summarise(rows)
    results = {
        "machine": machine(),
        "command": ".venv/bin/python -m bench.stt_partial",
        "load_average_1min": {"min": min(load), "max": max(load), "median": float(np.median(load))},
        "clips": len(rows),
        "summary": summary,
        "rows": rows,
    }
    t = summary["today"]
    print(
        table(
            f"Today, at the final pause ({len(rows)} clips): early quick pass and 30 s pass",
            ["pass", "WER", "complete command", "median ms", "p90 ms"],
            [
                [
                    "early (10 s window)",
                    f"{100 * t['early_wer']:.1f} %",
                    f"{t['early_complete']}/{len(rows)}",
                    f"{t['early_median_ms']:.0f}",
                    f"{t['early_p90_ms']:.0f}",
                ],
                [
                    "final (30 s window)",
                    f"{100 * t['final_wer']:.1f} %",
                    f"{t['final_complete']}/{len(rows)}",
                    f"{t['final_median_ms']:.0f}",
                    f"{t['final_p90_ms']:.0f}",
                ],
            ],
        )
    )
    print()
    print(
        table(
            f"Partial transcripts while the user speaks ({len(rows)} clips, quick pass, one lane)",
            [
                "every",
                "partials per clip (skipped)",
                "STT wall ms / s speech",
                "CPU ms / s speech",
                "last partial = today's command",
                "WER of last partial",
                "saved ms, mean (max)",
                "early pass delayed, clips (mean ms)",
                "premature different command",
            ],
            [
                [
                    f"{p} ms",
                    f"{s['partials_per_clip']:.1f} ({s['skipped_per_clip']:.1f})",
                    f"{s['wall_ms_per_speech_s']:.0f}",
                    f"{s['cpu_ms_per_speech_s']:.0f}",
                    f"{s['ready']}/{len(rows)}",
                    f"{100 * s['last_wer']:.1f} %",
                    f"{s['saved_ms_mean']:.0f} ({s['saved_ms_max']:.0f})",
                    f"{s['delayed']} ({s['delayed_ms_mean']:.0f})",
                    f"{s['premature']}/{len(rows)}",
                ]
                for p, s in ((p, summary[str(p)]) for p in PERIODS_MS)
            ],
        )
    )
    print(f"\nload average (1 min) during the run: {min(load):.2f}-{max(load):.2f}")
    print(f"wrote {write_json('stt_partial', results)}")


async def one_clip(
    settings: EdgeSettings, vad: SileroVad, lane: Lane, judge: TurnJudge, n: int, ref: str, audio: np.ndarray
) -> dict[str, Any]:
    row: dict[str, Any] = {"request": ref, "truth": _key(judge.meaning(ref)), "periods": {}}
    early: Utterance | None = None
    for p in PERIODS_MS:
        partials, early, started = await stream(settings, vad, audio, p / 1000, lambda a: lane.quick(n, a))
        row["periods"][str(p)] = {"partials": partials}
        row["speech_start_s"] = started
    assert early is not None, f"no early cut for {ref!r}"
    text, wall, cpu = lane.quick(n, early.audio)
    w0 = time.perf_counter()
    final = lane.stt.transcribe(early.audio).text
    row |= {
        "speech_end_s": early.speech_end_t,
        "early": text,
        "early_ms": 1000 * wall,
        "early_cpu_ms": 1000 * cpu,
        "early_meaning": _key(judge.meaning(text)),
        "final": final,
        "final_ms": 1000 * (time.perf_counter() - w0),
        "final_meaning": _key(judge.meaning(final)),
    }
    turn = row["early_meaning"] or row["final_meaning"]  # what the hub acts on at this pause today
    for p in PERIODS_MS:
        out = row["periods"][str(p)]
        ran = [q for q in out["partials"] if not q.get("skipped")]
        for q in ran:
            q["meaning"] = _key(judge.meaning(q["text"]))
        last = ran[-1] if ran else None
        today_s = max(DECIDE_S, EARLY_S + row["early_ms"] / 1000)
        lane_free = last["at_s"] + last["ms"] / 1000 if last else 0.0
        ready = bool(last and last["meaning"] is not None and last["meaning"] == row["early_meaning"])
        saved = 0.0
        if ready and last:
            saved = 1000 * (today_s - max(DECIDE_S, lane_free - row["speech_end_s"]))
        # A partial still running when the early cut comes holds the one lane: today's pass waits.
        delay = max(0.0, lane_free - (row["speech_end_s"] + EARLY_S))
        out |= {
            "last": last["text"] if last else None,
            "last_errors": errors(ref, last["text"] if last else ""),
            "ready": ready,
            "saved_ms": saved,
            "early_delay_ms": 0.0 if ready else 1000 * delay,
            "premature": any(q["meaning"] is not None and q["meaning"] != turn for q in ran),
            "wall_ms": sum(q["ms"] for q in ran),
            "cpu_ms": sum(q["cpu_ms"] for q in ran),
        }
    return row


def _key(meaning: tuple[object, ...] | None) -> str | None:
    return None if meaning is None else repr(meaning)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    speech_s = sum(r["speech_end_s"] - r["speech_start_s"] for r in rows)
    words = sum(errors(r["request"], "")[1] for r in rows)
    out: dict[str, Any] = {
        "speech_s": speech_s,
        "today": {
            "early_wer": sum(errors(r["request"], r["early"])[0] for r in rows) / words,
            "final_wer": sum(errors(r["request"], r["final"])[0] for r in rows) / words,
            "early_complete": sum(r["early_meaning"] is not None for r in rows),
            "final_complete": sum(r["final_meaning"] is not None for r in rows),
            "early_median_ms": float(np.median([r["early_ms"] for r in rows])),
            "early_p90_ms": float(np.percentile([r["early_ms"] for r in rows], 90)),
            "final_median_ms": float(np.median([r["final_ms"] for r in rows])),
            "final_p90_ms": float(np.percentile([r["final_ms"] for r in rows], 90)),
        },
    }
    for p in PERIODS_MS:
        ps = [r["periods"][str(p)] for r in rows]
        saved = [x["saved_ms"] for x in ps]
        delays = [x["early_delay_ms"] for x in ps if x["early_delay_ms"] > 0]
        out[str(p)] = {
            "partials_per_clip": sum(sum(not q.get("skipped") for q in x["partials"]) for x in ps) / len(rows),
            "skipped_per_clip": sum(sum(bool(q.get("skipped")) for q in x["partials"]) for x in ps) / len(rows),
            "wall_ms_per_speech_s": sum(x["wall_ms"] for x in ps) / speech_s,
            "cpu_ms_per_speech_s": sum(x["cpu_ms"] for x in ps) / speech_s,
            "ready": sum(x["ready"] for x in ps),
            "ready_right": sum(x["ready"] and r["early_meaning"] == r["truth"] for x, r in zip(ps, rows, strict=True)),
            "last_wer": sum(x["last_errors"][0] for x in ps) / words,
            "saved_ms_mean": float(np.mean(saved)),
            "saved_ms_mean_when_ready": float(
                np.mean([s for s, x in zip(saved, ps, strict=True) if x["ready"]] or [0])
            ),
            "saved_ms_max": max(saved),
            "delayed": len(delays),
            "delayed_ms_mean": float(np.mean(delays)) if delays else 0.0,
            "premature": sum(x["premature"] for x in ps),
            "premature_requests": sorted({r["request"] for x, r in zip(ps, rows, strict=True) if x["premature"]}),
        }
    return out


if __name__ == "__main__":
    main()
