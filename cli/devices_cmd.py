"""`companion devices`: see, name, place and control the devices the hub discovers over MQTT."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cli.common import print_json
from edge_runtime.devices import DeviceHub, device_hub_from
from edge_runtime.devices.errors import InvalidDeviceCommand
from edge_runtime.settings import EdgeSettings

T = TypeVar("T")
app = typer.Typer(help="Discover, name and control smart devices over MQTT.", no_args_is_help=True)
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WaitOpt = Annotated[float, typer.Option("--wait", help="Seconds to listen for discovery at most.")]


def _hub(settings: EdgeSettings) -> DeviceHub:
    return device_hub_from(settings, client_id=f"companion-cli-{os.getpid()}")


async def _with_hub(settings: EdgeSettings, wait: float, fn: Callable[[DeviceHub], Awaitable[T]]) -> T:
    hub = _hub(settings)
    await hub.start()
    try:
        await hub.settle(max_s=wait)
        return await fn(hub)
    finally:
        await hub.stop()


def _value(text: str) -> Any:
    """`brightness=30`, `on=true`, `rgb=255,0,0`: numbers and booleans as such, the rest as text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command("list")
def list_devices(ctx: typer.Context, as_json: JsonOpt = False, wait: WaitOpt = 3.0) -> None:
    """Every device the hub knows, with its room, availability and state."""

    async def run(hub: DeviceHub) -> list[dict[str, Any]]:
        return [r.to_dict() for r in hub.registry.listing()]

    rows = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} devices")
    for col in ("name", "kind", "area", "floor", "online", "state", "id"):
        table.add_column(col, no_wrap=col in ("name", "id"))
    for r in rows:
        online = {True: "[green]yes[/]", False: "[red]no[/]", None: "?"}[r["available"]]
        state = ", ".join(f"{k}={v}" for k, v in r["state"].items())
        table.add_row(r["name"], r["kind"], r["area"] or "", r["floor"] or "", online, state, r["id"])
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command()
def show(ctx: typer.Context, device: Annotated[str, typer.Argument(help="Name, alias or id.")],
         as_json: JsonOpt = False, wait: WaitOpt = 3.0) -> None:  # fmt: skip
    """One device in full: attributes, ranges, state."""

    async def run(hub: DeviceHub) -> dict[str, Any]:
        return hub.registry.resolve(device).to_dict()

    record = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(record)
    else:
        Console().print_json(json.dumps(record))


@app.command("set")
def set_device(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Name, alias or id.")],
    values: Annotated[list[str], typer.Argument(help="attr=value pairs, e.g. on=true brightness=30")],
    timeout: Annotated[float | None, typer.Option(help="Seconds to wait for the state echo.")] = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = 3.0,
) -> None:
    """Command a device; returns once its state echo confirms the change."""
    changes = {}
    for pair in values:
        if "=" not in pair:
            raise InvalidDeviceCommand(f"expected attr=value, got {pair!r}", hint="e.g. brightness=30")
        key, raw = pair.split("=", 1)
        changes[key.strip()] = _value(raw.strip())

    async def run(hub: DeviceHub) -> dict[str, Any]:
        import time

        started = time.perf_counter()
        rec = await hub.set(device, changes, timeout_s=timeout)
        return {"device": rec.id, "name": rec.name, "confirmed": True, "state": rec.state,
                "ms": round(1000 * (time.perf_counter() - started), 2)}  # fmt: skip

    result = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(result)
    else:
        err.print(f"[green]confirmed[/] {result['name']} in {result['ms']} ms: {result['state']}")


@app.command()
def watch(ctx: typer.Context, as_json: JsonOpt = False,
          seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None) -> None:  # fmt: skip
    """Stream discovery, state and availability changes until Ctrl-C."""

    async def run() -> None:
        hub = _hub(ctx.obj.settings)
        events = hub.events()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if seconds is not None:
            loop.call_later(seconds, stop.set)
        await hub.start()
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(events.get())
                done, _ = await asyncio.wait({getter, asyncio.ensure_future(stop.wait())},
                                             return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                rec = hub.registry.records.get(event.device_id)
                line = {**event.to_dict(), "name": rec.name if rec else None}
                if as_json:
                    print_json(line)
                else:
                    details = {k: v for k, v in line.items() if k not in ("type", "device", "name")}
                    sys.stdout.write(f"{line['type']:<15} {line['name'] or event.device_id}: {json.dumps(details)}\n")
                    sys.stdout.flush()
        finally:
            await hub.stop()

    asyncio.run(run())


@app.command()
def edit(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Name, alias or id.")],
    name: Annotated[str | None, typer.Option(help="What you call it.")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Another name (repeat; replaces the list).")] = None,
    area: Annotated[str | None, typer.Option(help="Room or area.")] = None,
    wait: WaitOpt = 1.0,
) -> None:
    """Name a device, give it aliases, put it in a room. Kept across rediscovery and restarts."""

    async def run(hub: DeviceHub) -> dict[str, Any]:
        return hub.registry.edit(device, name=name, aliases=alias, area=area).to_dict()

    rec = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    from edge_runtime.synced import open_replica, record_edit

    record_edit(open_replica(ctx.obj.settings), rec["id"], alias, area)  # synced by `hub up` or `sync now`
    err.print(f"{rec['id']}: name={rec['name']!r} aliases={rec['aliases']} area={rec['area']!r} floor={rec['floor']!r}")


@app.command()
def floor(
    ctx: typer.Context,
    area: Annotated[str, typer.Argument(help="The area (room).")],
    floor_name: Annotated[str, typer.Argument(metavar="FLOOR", help="Its floor, e.g. 'upstairs'.")],
) -> None:
    """Put an area on a floor."""

    async def run(hub: DeviceHub) -> None:
        hub.registry.set_floor(area, floor_name)

    asyncio.run(_with_hub(ctx.obj.settings, 0.5, run))
    err.print(f"{area} is on {floor_name}")


@app.command()
def simulate(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="devices.toml")],
    broker: Annotated[str | None, typer.Option(help="Override the broker URL in the config.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
) -> None:
    """Run virtual devices of every kind and convention on a real broker, until Ctrl-C."""
    import threading

    from device_drivers.simulator import Simulator, load

    url, devices = load(config)
    sim = Simulator(broker or url, devices).start()
    err.print(f"simulating {len(devices)} devices on {sim.address} (Ctrl-C to stop)")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
