"""`companion listen | transcribe | say`: one turn, one transcript, one utterance."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from cli.common import load_engines, print_json, quiet_stdout
from edge_runtime.audio.convert import resample, to_float32, to_int16
from edge_runtime.audio.sinks import WavSink
from edge_runtime.audio.sources import WavSource
from edge_runtime.clock import SystemClock

err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON record.")]


def listen(
    ctx: typer.Context,
    wav: Annotated[Path, typer.Option("--wav", help="The recording to answer.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the spoken reply here.")] = None,
    as_json: JsonOpt = False,
    no_wake: Annotated[bool, typer.Option("--no-wake", help="Push-to-talk: skip the wake word.")] = False,
) -> None:
    """Run one whole turn: wake, endpoint, STT, skill, TTS."""
    from edge_runtime.turn import run_turn

    settings = ctx.obj.settings
    source = WavSource(wav)
    engines = load_engines(ctx.obj)
    result = asyncio.run(
        run_turn(settings, engines, SystemClock(settings.timezone), source.blocks(), use_wake=not no_wake)
    )
    if out is not None:
        sink = WavSink(out, result.reply_rate)
        sink.write(result.reply_audio)
        sink.close()
        result.record["out"] = str(out)
    if as_json:
        print_json(result.record)
    else:
        rec = result.record
        wake = rec["wake"]
        err.print(f"wake: {wake['name']} ({wake['score']:.2f}) at {wake['time_s']:.2f}s" if wake else "wake: none")
        typer.echo(f"you: {rec['transcript'] or ''}")
        typer.echo(f"hub: {rec['reply'] or ''}")


def transcribe(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A WAV (any rate, mono or stereo).")],
    as_json: JsonOpt = False,
    engine: Annotated[str | None, typer.Option(help="whisper or vosk (default: settings).")] = None,
    grammar: Annotated[list[str] | None, typer.Option(help="vosk: restrict to these phrases.")] = None,
) -> None:
    """Transcribe a whole file with the STT engine."""
    from models.stt import STT, VoskSTT, WhisperSTT, stt_model_for

    settings = ctx.obj.settings
    source = WavSource(file)
    audio = np.concatenate([to_float32(b) for b in source.iter_blocks()] or [np.zeros(0, np.float32)])
    audio = audio[: max(0, round(source.duration_s * 16000))] if source.duration_s else audio
    stt: STT
    with quiet_stdout():
        if (engine or settings.stt_engine) == "vosk":
            stt = VoskSTT(ctx.obj.registry, settings.vosk_model, language=settings.vosk_language, grammar=grammar)
        else:
            language = settings.stt_language or settings.language
            model_id = stt_model_for(ctx.obj.registry, settings.stt_model, language)
            stt = WhisperSTT(ctx.obj.registry, model_id, language=language, threads=settings.stt_threads)
    result = stt.transcribe(audio)
    if as_json:
        print_json(
            {
                "type": "transcript",
                "text": result.text,
                "language": result.language,
                "audio_s": round(result.audio_s, 3),
                "stt_ms": round(1000 * result.compute_s, 1),
                "rtf": round(result.rtf, 4),
            }
        )
    else:
        typer.echo(result.text)


def say(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to say.")],
    out: Annotated[Path, typer.Option("--out", help="WAV file to write.")],
    rate: Annotated[int | None, typer.Option(help="Output sample rate (default: the voice's).")] = None,
    steady: Annotated[
        bool, typer.Option("--steady", help="The same audio every run: Piper's sampling noise off (test clips).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Speak text into a WAV file with the Piper voice."""
    from models.tts import PiperTTS

    if not text.strip():
        raise typer.BadParameter("nothing to say", param_hint="TEXT")
    with quiet_stdout():
        tts = PiperTTS(ctx.obj.registry, ctx.obj.settings.tts_voice, deterministic=steady)
    rate = rate or tts.sample_rate
    sink = WavSink(out, rate)
    samples = 0
    for chunk in tts.synthesize(text):
        pcm = to_int16(resample(chunk, tts.sample_rate, rate))
        sink.write(pcm)
        samples += len(pcm)
    sink.close()
    if as_json:
        print_json(
            {
                "type": "speech",
                "out": str(out),
                "rate": rate,
                "audio_s": round(samples / rate, 3),
                "first_audio_ms": round(1000 * tts.last_first_audio_s, 1),
            }
        )
    else:
        err.print(f"wrote {samples / rate:.2f}s to {out}")
