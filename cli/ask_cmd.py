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
from edge_runtime.skills.builtin import BuiltinSkills

err = Console(stderr=True)


def needs_device_layer(skills: BuiltinSkills, text: str, language: str) -> bool:
    """Whether the turn may need devices (and the LLM): asked of the skills without running them,
    since running one here would run it twice (a timer set through `ask` was set twice)."""
    return language != "en" or skills.intent_of(text) in ("unknown", "timer-command")  # a delayed device command


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
        from edge_runtime.brain.device_skill import DeviceSkill
        from edge_runtime.brain.factory import brain_from, escalator_from, load_llm
        from edge_runtime.brain.memory import LocalMemory
        from edge_runtime.devices import device_hub_from
        from edge_runtime.skills.timers import TimerManager
        from edge_runtime.synced import open_replica

        async def ring(timer: object, repeat: int) -> None:  # no alerts in a one-shot question
            return None

        clock = SystemClock(settings.timezone)
        skills = BuiltinSkills(clock, TimerManager(clock, ring))
        started = time.perf_counter()
        needs_devices = needs_device_layer(skills, text, settings.language)
        devices = device_hub_from(settings, client_id=f"companion-ask-{os.getpid()}") if needs_devices else None
        with quiet_stdout():
            model = load_llm(settings.model_copy(update={"llm_enabled": llm and settings.llm_enabled}),
                             ctx.obj.registry) if needs_devices else None  # fmt: skip
        cloud = escalator_from(settings)
        replica = open_replica(settings)  # memory and lists, as `hub up` has them (synced when the hub runs)
        if devices is not None:
            await devices.start()
        try:
            if devices is not None:
                await devices.settle(max_s=wait)
            skill = DeviceSkill(devices, language=settings.language) if devices is not None else None
            brain = brain_from(settings, skills, skill, model, cloud, LocalMemory(replica.doc))

            async def speak(sentence: str, final: bool) -> None:
                if not as_json:
                    typer.echo(sentence)

            asked = time.perf_counter()
            result = await brain.handle(text, speak=speak)
        finally:
            if devices is not None:
                await devices.stop()
            if cloud is not None:
                await cloud.close()
            await skills.timers.close()
            replica.store.close()
        return {"type": "answer", "text": text, "language": settings.language, **result.to_dict(),
                "ms": round(1000 * (time.perf_counter() - asked), 1),
                "setup_ms": round(1000 * (asked - started), 1)}  # fmt: skip

    record = asyncio.run(run())
    if as_json:
        print_json(record)
        return
    for action in record["actions"]:
        mark = "[green]confirmed[/]" if action["confirmed"] else f"[red]{action.get('error')}[/]"
        err.print(f"  {action['name']}: {action['values']} {mark}")
    signals = ", ".join(record["signals"]) or "-"
    err.print(f"  [dim]route {record['route']} · intent {record['intent']} · signals {signals} · {record['ms']} ms[/]")
