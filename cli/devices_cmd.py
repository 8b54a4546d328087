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
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.common import print_json
from device_drivers.validate import clean_text
from edge_runtime.devices import DeviceHub, device_hub_from
from edge_runtime.devices.classes import state_text
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


def _safe(value: Any) -> Any:
    """What devices say about themselves (names, state) reaches a terminal: without escape sequences,
    control characters or direction overrides, in nested JSON too. Rich markup is escaped where printed."""
    if isinstance(value, str):
        return clean_text(value, 2000)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


def _value(text: str) -> Any:
    """`brightness=30`, `on=true`, `rgb=255,0,0`: numbers and booleans as such, the rest as text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command("list")
def list_devices(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    wait: WaitOpt = 3.0,
    everything: Annotated[bool, typer.Option("--all", help="Diagnostic and config entities too.")] = False,
) -> None:
    """Every device the hub knows, with its room, availability, state (in units and words) and any problem."""

    async def run(hub: DeviceHub) -> list[dict[str, Any]]:
        return [
            {**r.to_dict(), "state_text": state_text(r.device, r.state)}
            for r in hub.registry.listing(hidden=everything)
        ]

    rows = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} devices")
    for col in ("name", "kind", "area", "floor", "online", "state", "id"):
        table.add_column(col, no_wrap=col in ("name", "id"))
    for r in _safe(rows):
        online = {True: "[green]yes[/]", False: "[red]no[/]", None: "?"}[r["available"]]
        state = r["state_text"]
        if r.get("problem"):  # its messages cannot be read: say which, with the code
            p = r["problem"]
            state = f"{state} [!] {p['code']} on {p['topic']}: {p['payload'][:40]!r}".strip()
        cells = (r["name"], r["kind"], r["area"] or "", r["floor"] or "")
        table.add_row(*(Text(c) for c in cells), online, Text(state), Text(r["id"]))  # Text: never markup
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command()
def show(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Name, alias or id.")],
    as_json: JsonOpt = False,
    wait: WaitOpt = 3.0,
) -> None:
    """One device in full: attributes, ranges, state."""

    async def run(hub: DeviceHub) -> dict[str, Any]:
        return hub.registry.resolve(device).to_dict()

    record = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(record)
    else:
        Console().print_json(json.dumps(_safe(record)))


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
        return {
            "device": rec.id,
            "name": rec.name,
            "confirmed": True,
            "state": rec.state,
            "ms": round(1000 * (time.perf_counter() - started), 2),
        }

    result = asyncio.run(_with_hub(ctx.obj.settings, wait, run))
    if as_json:
        print_json(result)
    else:
        shown = _safe(result)
        err.print(f"[green]confirmed[/] {escape(shown['name'])} in {result['ms']} ms: {escape(str(shown['state']))}")


@app.command()
def watch(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
) -> None:
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
                done, _ = await asyncio.wait(
                    {getter, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                rec = hub.registry.records.get(event.device_id)
                line = {**event.to_dict(), "name": rec.name if rec else None}
                if as_json:
                    print_json(line)
                else:
                    line = _safe(line)
                    details = {k: v for k, v in line.items() if k not in ("type", "device", "name")}
                    sys.stdout.write(f"{line['type']:<15} {line['name'] or line['device']}: {json.dumps(details)}\n")
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

    replica = open_replica(ctx.obj.settings, own_writer=True)  # `hub up` may hold the same replica meanwhile
    record_edit(replica, rec["id"], alias, area)  # synced by `hub up` or `sync now`
    rec = _safe(rec)
    err.print(
        escape(
            f"{rec['id']}: name={rec['name']!r} aliases={rec['aliases']} area={rec['area']!r} floor={rec['floor']!r}"
        )
    )


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
