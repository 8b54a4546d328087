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
from edge_runtime.audio.sinks import AudioSink, PcmSink, SpeakerSink, WavSink
from edge_runtime.audio.sources import AudioSource, MicSource, PcmSource, WavSource
from edge_runtime.clock import SystemClock
from edge_runtime.devices import DeviceEvent, DeviceHub, device_hub_from
from edge_runtime.devices.registry import DeviceRegistry
from edge_runtime.hub import build_hub
from edge_runtime.logs import fields
from edge_runtime.loop import AudioLoop
from sync import Replica

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
    serve_api = settings.api_enabled if api is None else api
    asyncio.run(_serve(settings, engines, source, sink, realtime=realtime and not live, devices=devices, llm=llm,
                       api=serve_api, registry=ctx.obj.registry))  # fmt: skip


async def _serve(settings, engines, source, sink, *, realtime: bool, devices: bool, llm=None, api: bool = False,
                 registry=None) -> None:  # fmt: skip
    device_hub = device_hub_from(settings) if devices else None
    hub_id = _hub_id(settings) if device_hub or settings.ha_presence_enabled or settings.wyoming_enabled else ""
    if device_hub is not None:  # also after presence is turned off: its retained configs stay on the broker
        _ignore_own_entities(device_hub, hub_id)
    if device_hub is not None:
        # Connects in the background and keeps retrying with backoff: voice works without a broker.
        await device_hub.start()
        device_events = device_hub.events()
        watcher = asyncio.create_task(_log_device_events(device_hub, device_events))
    from edge_runtime.brain.device_skill import DeviceSkill
    from edge_runtime.brain.factory import escalator_from
    from edge_runtime.brain.memory import LocalMemory
    from edge_runtime.synced import apply_to_registry, live_sync, open_replica, with_profile

    # The user's synced profile and memory: their language, timezone and name; aliases and rooms.
    replica = open_replica(settings)
    settings, user_name = with_profile(settings, replica)
    stop = asyncio.Event()
    link = live_sync(settings, replica)
    syncing = asyncio.create_task(link.run(stop)) if link is not None else None
    if device_hub is not None:
        device_registry = device_hub.registry
        apply_to_registry(replica, device_registry)
        replica.on_remote.append(lambda: _apply(replica, device_registry))
    skill = DeviceSkill(device_hub, language=settings.language) if device_hub is not None else None
    cloud = escalator_from(settings)
    hub = build_hub(settings, engines, SystemClock(settings.timezone), devices=skill, llm=llm, cloud=cloud,
                    memory=LocalMemory(replica.doc), user_name=user_name)  # fmt: skip
    controls, presence = (None, None)
    if settings.ha_presence_enabled:
        controls, presence = await _ha_presence(settings, hub, registry, hub_id)
    loop = AudioLoop(hub, controls.sink(sink) if controls else sink, realtime=realtime, lockstep=not realtime)
    wyoming = await _wyoming(settings, engines, registry, hub, hub_id) if settings.wyoming_enabled else None
    lan = (
        await _start_api(settings, hub, device_hub, engines, llm, cloud, replica, user_name, registry) if api else None
    )
    aio = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        aio.add_signal_handler(sig, stop.set)
    await hub.start()
    log.info("hub.up", extra={"wake_word": settings.wake_word, "stt": settings.stt_engine})
    typer.echo(ready_line(settings, source, lan), err=True)
    logged = ("wake", "stt", "skill", "interrupt", "timer_alert")
    hub.tracer.listeners.append(
        lambda m: (
            log.info(f"hub.{m.event}", extra=fields({k: v for k, v in m.data.items() if k != "data"}))
            if m.event in logged
            else None
        )
    )

    try:
        blocks = controls.muteable(source.blocks()) if controls else source.blocks()
        if await _until_stopped(loop.run(blocks, until=stop.is_set), stop):
            await loop.finish()
    finally:
        if wyoming is not None:
            await wyoming.stop()
        if presence is not None:
            await presence.stop()
        if lan is not None:
            await lan.stop()
            await lan.hub.close()
        await hub.stop()
        if device_hub is not None:
            watcher.cancel()
            await device_hub.stop()
        if cloud is not None:
            await cloud.close()
        if syncing is not None:
            stop.set()
            await syncing
        replica.store.close()
        sink.close()
        log.info("hub.down")


def _hub_id(settings) -> str:
    from edge_runtime.identity import HubFiles

    identity, _ = HubFiles(settings.config_dir, settings.data_dir).init()  # no-op once it exists
    return identity.hub_id


def _ignore_own_entities(device_hub: DeviceHub, hub_id: str) -> None:
    """The hub's own entities come back through Home Assistant discovery; they are not devices to control."""
    from device_drivers import HomeAssistant
    from edge_runtime.ha_presence import node_id

    for codec in device_hub.codecs:
        if isinstance(codec, HomeAssistant):
            codec.ignore_nodes.add(node_id(hub_id))


async def _ha_presence(settings, hub, registry, hub_id: str):
    """The hub in Home Assistant over MQTT: its controls (mute, volume, wake word) and its presence."""
    from edge_runtime.ha_presence import Controls, presence_from

    controls = Controls(settings, registry, hub)
    presence = presence_from(settings, hub_id, controls, timers=hub.timers)
    presence.attach(hub.tracer)
    return controls, await presence.start()


async def _wyoming(settings, engines, registry, hub, hub_id: str):
    try:
        from edge_runtime.wyoming import serve_wyoming
    except ImportError as err:  # an install without the `wyoming` package: say which extra brings it
        log.error("wyoming.unavailable", extra={"error": str(err), "fix": "pip install 'companion[edge]'"})
        return None
    from models.registry import Registry

    brain = hub.responder.brain
    return await serve_wyoming(settings, engines, registry or Registry(), brain=brain, hub_id=hub_id)


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


async def _start_api(settings, hub, device_hub, engines, llm, cloud, replica, user_name, registry):
    """The LAN API shares the hub's brain for text; each WebRTC session gets its own pipeline."""
    from edge_runtime.api import ApiServer, HubContext, attach_voice
    from edge_runtime.brain.memory import LocalMemory
    from edge_runtime.identity import HubFiles

    identity, _ = HubFiles(settings.config_dir, settings.data_dir).init()  # no-op once it exists
    context = HubContext.open(settings, identity.hub_id, devices=device_hub, brain=hub.responder.brain,
                              registry=registry)  # fmt: skip
    attach_voice(context, hub.tracer, source="hub", conversation="hub")
    context.webrtc = _webrtc_sessions(settings, engines, registry, device_hub, llm, cloud, LocalMemory(replica.doc),
                                      user_name)  # fmt: skip
    context.start()
    try:
        return await ApiServer(context).start()
    except OSError as err:  # the port is taken: voice goes on without the app, and says why
        log.error("api.failed", extra={"port": settings.api_port, "error": str(err),
                                       "fix": "set COMPANION_API_PORT to a free port"})  # fmt: skip
        await context.close()
        return None


def _webrtc_sessions(settings, engines, registry, device_hub, llm, cloud, memory, user_name):
    try:
        from edge_runtime.api.webrtc_glue import webrtc_sessions
    except ImportError as err:  # the edge extra without aiortc: the rest of the API still works
        log.warning("api.webrtc_unavailable", extra={"error": str(err)})
        return None
    return webrtc_sessions(settings, engines, registry, devices=device_hub, llm=llm, cloud=cloud, memory=memory,
                           user_name=user_name)  # fmt: skip


async def _log_device_events(device_hub: DeviceHub, events: asyncio.Queue[DeviceEvent]) -> None:
    while True:
        event = await events.get()
        if event.type != "state":  # state changes are too many to log one by one
            rec = device_hub.registry.records.get(event.device_id)
            log.info(f"hub.{event.type}", extra=fields({"device": event.device_id, "name": rec.name if rec else None,
                                                       **event.data}))  # fmt: skip


def _apply(replica: Replica, registry: DeviceRegistry) -> None:
    """A remote change may carry aliases or room names: the registry takes them at once."""
    from edge_runtime.synced import apply_to_registry

    apply_to_registry(replica, registry)
