"""`companion ask "text"`: the hub's brain on text, with the devices on the broker."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.common import print_json, quiet_stdout
from edge_runtime.clock import SystemClock
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager

err = Console(stderr=True)


def needs_device_layer(text: str, settings: EdgeSettings) -> bool:
    """Whether the turn may need devices (and the LLM): asked of the skills without running them,
    since running one here would run it twice (a timer set through `ask` was set twice)."""
    if settings.language != "en":
        return True
    clock = SystemClock(settings.timezone)

    async def ring(timer: object, repeat: int) -> None:
        return None

    skills = BuiltinSkills(clock, TimerManager(clock, ring))  # only asked, never run: no timer starts
    return skills.intent_of(text) in ("unknown", "timer-command")  # a delayed device command


def ask(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What you would say to the hub.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON record.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the text and reply (en, de...).")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to listen for device discovery at most.")] = 3.0,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Use the hub's small LLM when no intent matches.")] = True,
) -> None:
    """Run the brain on text: built-in skills, device intents, the local LLM, then the cloud."""
    settings = ctx.obj.settings
    if lang:
        settings = settings.model_copy(update={"language": lang})
    if not text.strip():
        raise typer.BadParameter("say something", param_hint="TEXT")

    async def run() -> dict[str, Any]:
        from edge_runtime.app import HubApp, HubOptions
        from edge_runtime.brain.factory import load_llm

        started = time.perf_counter()
        needs_devices = needs_device_layer(text, settings)
        with quiet_stdout():
            model = (
                load_llm(settings.model_copy(update={"llm_enabled": llm and settings.llm_enabled}), ctx.obj.registry)
                if needs_devices
                else None
            )
        # Memory and lists as `hub up` has them (synced when the hub runs); no live sync for one question.
        options = HubOptions(
            devices=needs_devices,
            sync=False,
            client_id=f"companion-ask-{os.getpid()}",
            settle_s=wait,
            identity=False,
            vision=False,
            peers=False,  # the running hub's own link to its peers: a second one would take its place
        )
        async with HubApp(settings, models=ctx.obj.registry, llm=model, options=options) as hub:
            assert hub.brain is not None

            async def speak(sentence: str, final: bool) -> None:
                if not as_json:
                    typer.echo(sentence)

            asked = time.perf_counter()
            result = await hub.brain.handle(text, speak=speak)
        return {
            "type": "answer",
            "text": text,
            "language": settings.language,
            **result.to_dict(),
            "ms": round(1000 * (time.perf_counter() - asked), 1),
            "setup_ms": round(1000 * (asked - started), 1),
        }

    record = asyncio.run(run())
    if as_json:
        print_json(record)
        return
    for action in record["actions"]:
        mark = "[green]confirmed[/]" if action["confirmed"] else f"[red]{action.get('error')}[/]"
        err.print(f"  {action['name']}: {action['values']} {mark}")
    signals = ", ".join(record["signals"]) or "-"
    err.print(f"  [dim]route {record['route']} · intent {record['intent']} · signals {signals} · {record['ms']} ms[/]")
