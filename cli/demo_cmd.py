"""`companion demo`: the hub's voice pipeline end to end, offline, no microphone needed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.common import load_engines, print_json

err = Console(stderr=True)


def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write the WAVs.")] = Path("demo-out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON record per turn.")] = False,
    devices: Annotated[bool, typer.Option(help="Also run the device demo (needs mosquitto).")] = True,
) -> None:
    """Speak a short conversation to the hub and hear its answers (WAVs in --out-dir)."""
    from edge_runtime.demo import DemoTurn, run_demo

    err.print("[bold]Companion hub demo[/]: loading the offline models…")
    engines = load_engines(ctx.obj)
    err.print(
        f"models loaded in {sum(engines.load_ms.values()) / 1000:.1f}s: "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in engines.load_ms.items())
    )

    def show(turn: DemoTurn) -> None:
        if as_json:
            print_json({"type": "demo-turn", **turn.__dict__})
            return
        err.print(f"[cyan]you[/]  Hey Jarvis… {turn.transcript}")
        latency = (
            f"  [dim]({turn.endpoint_to_first_audio_ms:.0f} ms to first audio)[/]"
            if turn.endpoint_to_first_audio_ms
            else ""
        )
        err.print(f"[green]hub[/]  {turn.reply or '(silence)'}{latency}")

    turns = asyncio.run(run_demo(ctx.obj.settings, engines, out_dir, on_turn=show))
    err.print(f"\n{len(turns)} turns. Listen: {out_dir / 'demo-input.wav'} (you) and {out_dir / 'demo-hub.wav'} (hub)")
    if len(turns) == 0:
        raise typer.Exit(1)
    if devices:
        from cli.common import quiet_stdout
        from edge_runtime.brain.factory import load_llm
        from edge_runtime.devices.demo import run_device_demo

        with quiet_stdout():
            llm = load_llm(ctx.obj.settings, ctx.obj.registry)
        err.print("\n[bold]Devices over MQTT[/]: a simulated home in three conventions, run by the brain")
        asyncio.run(run_device_demo(ctx.obj.settings, lambda line: err.print(f"  {line}"), llm))
