"""`companion sync status | now | log`: the hub's copy of your profile and memory, and its link."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.common import print_json
from edge_runtime.synced import cloud_client, open_replica

app = typer.Typer(help="Sync of your profile and memory with the cloud.", no_args_is_help=True)
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _when(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t).isoformat(timespec="seconds") if t else "never"


@app.command()
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """What this hub holds, what waits to be sent, and what the cloud holds."""
    settings = ctx.obj.settings
    replica = open_replica(settings)
    local = replica.store.status(replica.name)
    doc = replica.doc.to_py()
    record: dict[str, Any] = {"local": {**local, "memory_items": len(doc["memory"]), "profile": doc["profile"]}}
    try:
        client = cloud_client(settings)
        response = client.http.get(
            f"/v1/sync/{replica.name}", headers={"Authorization": f"Bearer {client.hub_token()}"}
        )
        record["cloud"] = response.json() if response.status_code == 200 else {"error": response.json().get("error")}
    except Exception as error:  # not linked or unreachable: said, not raised; status must always answer
        record["cloud"] = {"error": {"code": getattr(error, "code", type(error).__name__), "message": str(error)}}
    if as_json:
        print_json(record)
        return
    table = Table(title="sync")
    table.add_column("what")
    table.add_column("value")
    table.add_row("memory items", str(record["local"]["memory_items"]))
    table.add_row("updates kept here", f"{local['updates']} ({local['bytes']} bytes)")
    table.add_row("waiting to be sent", str(local["pending"]))
    table.add_row("last synced", _when(local["last_synced"]))
    cloud = record["cloud"]
    table.add_row(
        "cloud",
        f"[red]{cloud['error']['code']}[/]"
        if "error" in cloud
        else f"{cloud['bytes']} bytes, {cloud['updates']} updates since the last compaction",
    )
    err.print(table)


@app.command()
def now(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Sync once over HTTP: send what waits, fetch what is missing."""
    from sync import sync_http

    settings = ctx.obj.settings
    replica = open_replica(settings)
    client = cloud_client(settings)
    result = asyncio.run(sync_http(replica, client.base_url, client.hub_token()))
    if as_json:
        print_json(result)
        return
    err.print(
        f"synced in {result['ms']} ms: sent {result['sent_bytes']} bytes, received {result['received_bytes']}, "
        f"{result['acknowledged']} changes acknowledged, {result['pending']} still waiting"
    )


@app.command("log")
def show_log(
    ctx: typer.Context, limit: Annotated[int, typer.Option(help="How many entries.")] = 30, as_json: JsonOpt = False
) -> None:
    """Recent sync events: connections, rounds, errors."""
    replica = open_replica(ctx.obj.settings)
    entries = replica.store.log(replica.name, limit)
    if as_json:
        print_json(entries)
        return
    for entry in entries:
        detail = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("t", "event"))
        err.print(f"{_when(entry['t'])}  {entry['event']:<13} {detail}")
