"""`companion hub up`: run the hub continuously on a live source."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import link_cmd, pair_cmd, provision_cmd
from cli.common import load_engines, quiet_stdout
from edge_runtime.app import HubApp, HubOptions
from edge_runtime.audio.sinks import AudioSink, PcmSink, SpeakerSink, WavSink
from edge_runtime.audio.sources import AudioSource, MicSource, PcmSource, WavSource
from edge_runtime.logs import fields
from edge_runtime.loop import AudioLoop

app = typer.Typer(help="Run and manage the hub.", no_args_is_help=True)
app.command("init")(link_cmd.init)
app.command("link")(link_cmd.link)
app.command("unlink")(link_cmd.unlink)
app.command("provision")(provision_cmd.provision)
app.command("pair-code")(pair_cmd.pair_code)
app.command("apps")(pair_cmd.apps)
app.command("revoke")(pair_cmd.revoke)
app.command("discover")(pair_cmd.discover)
log = logging.getLogger("companion.hub")


@app.command()
def up(
    ctx: typer.Context,
    wav: Annotated[Path | None, typer.Option("--wav", help="Play this file as the microphone.")] = None,
    stdin: Annotated[bool, typer.Option("--stdin", help="Raw s16le PCM on stdin.")] = False,
    stdin_rate: Annotated[int, typer.Option(help="Sample rate of --stdin.")] = 16000,
    out: Annotated[Path | None, typer.Option("--out", help="Write the speaker's timeline to a WAV.")] = None,
    stdout: Annotated[bool, typer.Option("--stdout", help="Raw s16le PCM to stdout.")] = False,
    realtime: Annotated[bool, typer.Option(help="Pace file input like a live microphone.")] = True,
    devices: Annotated[bool, typer.Option(help="Run the device layer on the MQTT broker too.")] = True,
    api: Annotated[bool | None, typer.Option("--api/--no-api", help="Serve the LAN API for the app.")] = None,
) -> None:
    """Listen for the wake word and answer, until interrupted (Ctrl-C) or the input ends."""
    settings = ctx.obj.settings
    source: AudioSource
    if wav is not None:
        source = WavSource(wav)
    elif stdin:
        source = PcmSource(sys.stdin.buffer, rate=stdin_rate)
    else:
        source = MicSource()
    sink: AudioSink
    if out is not None:
        sink = WavSink(out, settings.output_rate)
    elif stdout:
        sink = PcmSink(sys.stdout.buffer, settings.output_rate)
    else:
        sink = SpeakerSink(settings.output_rate)
    from edge_runtime.brain.factory import load_llm
    from edge_runtime.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before the engines start their threads
    engines = load_engines(ctx.obj)

    with quiet_stdout():
        llm = load_llm(settings, ctx.obj.registry)
    live = isinstance(source, MicSource)
    options = HubOptions(devices=devices, api=settings.api_enabled if api is None else api)
    hub = HubApp(settings, models=ctx.obj.registry, engines=engines, llm=llm, options=options)
    asyncio.run(_serve(hub, source, sink, realtime=realtime and not live))


async def _serve(app: HubApp, source: AudioSource, sink: AudioSink, *, realtime: bool) -> None:
    """The hub's parts come from the composition root; this runs its microphone until told to stop."""
    stop = asyncio.Event()
    try:
        async with app:
            voice, controls = app.voice, app.controls
            assert voice is not None
            loop = AudioLoop(voice, controls.sink(sink) if controls else sink, realtime=realtime, lockstep=not realtime)
            aio = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                aio.add_signal_handler(sig, stop.set)
            log.info("hub.up", extra={"wake_word": app.settings.wake_word, "stt": app.settings.stt_engine})
            typer.echo(ready_line(app.settings, source, app.lan), err=True)
            logged = ("wake", "stt", "skill", "interrupt", "timer_alert", "announcement", "yielded")
            voice.tracer.listeners.append(
                lambda m: (
                    log.info(f"hub.{m.event}", extra=fields({k: v for k, v in m.data.items() if k != "data"}))
                    if m.event in logged
                    else None
                )
            )
            blocks = controls.muteable(source.blocks()) if controls else source.blocks()
            if await _until_stopped(loop.run(blocks, until=stop.is_set), stop):
                await loop.finish()
    finally:
        sink.close()


def ready_line(settings, source: AudioSource, lan) -> str:
    """The one line `hub up` prints at any log level: what it listens to, and where the app finds it."""
    names = {WavSource: "a WAV file", PcmSource: "standard input", MicSource: "the microphone"}
    heard = names.get(type(source), "audio")
    wake = settings.wake_word.replace("_", " ")
    line = f'Companion hub up: listening for "{wake}" on {heard}'
    if lan is None:
        return line + "; LAN API off."
    host = f"[{lan.host}]" if ":" in lan.host else lan.host
    return line + f"; LAN API on {lan.scheme}://{host}:{lan.port} (pair an app: companion hub pair-code)."


async def _until_stopped(work, stop: asyncio.Event) -> bool:
    """Run until the input ends (True) or a signal asks us to stop, even while no input arrives (False)."""
    runner, stopper = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not runner.done():
        runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    return not stop.is_set()
