"""`companion ask "text"`: the hub's brain on text, with the devices on the broker."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.common import print_json
from edge_runtime.clock import SystemClock

err = Console(stderr=True)


def ask(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What you would say to the hub.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON record.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to listen for device discovery at most.")] = 3.0,
) -> None:
    """Run the brain on text: built-in skills, then device intents over the live registry."""
    settings = ctx.obj.settings
    if not text.strip():
        raise typer.BadParameter("say something", param_hint="TEXT")

    async def run() -> dict[str, Any]:
        from edge_runtime.brain.device_skill import DeviceSkill
        from edge_runtime.devices import device_hub_from
        from edge_runtime.skills.builtin import CANNOT, BuiltinSkills, SkillResult
        from edge_runtime.skills.timers import TimerManager

        async def ring(timer: object, repeat: int) -> None:  # no alerts in a one-shot question
            return None

        clock = SystemClock(settings.timezone)
        skills = BuiltinSkills(clock, TimerManager(clock, ring))
        started = time.perf_counter()
        result = skills.handle(text)
        route = "builtin"
        if result.intent == "unknown":
            devices = device_hub_from(settings, client_id=f"companion-ask-{os.getpid()}")
            await devices.start()
            try:
                await devices.settle(max_s=wait)
                device_result = await DeviceSkill(devices).handle(text)
            finally:
                await devices.stop()
            if device_result is not None:
                result, route = device_result, "local-intent"
            else:
                result, route = SkillResult("unknown", CANNOT), "none"
        await skills.timers.close()
        details = {k: v for k, v in result.data.items() if k != "actions"}
        return {"type": "answer", "text": text, "route": route, "intent": result.intent, "reply": result.reply,
                "actions": result.data.get("actions", []), "data": details,
                "ms": round(1000 * (time.perf_counter() - started), 1)}  # fmt: skip

    record = asyncio.run(run())
    if as_json:
        print_json(record)
        return
    for action in record["actions"]:
        mark = "[green]confirmed[/]" if action["confirmed"] else f"[red]{action.get('error')}[/]"
        err.print(f"  {action['name']}: {action['values']} {mark}")
    typer.echo(record["reply"] or "")
