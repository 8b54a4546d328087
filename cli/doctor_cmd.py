"""`companion status` and `companion doctor`: is everything this hub needs there and working?"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.common import print_json
from edge_runtime.checks import Result, run_checks

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
HostOpt = Annotated[str | None, typer.Option("--host", help="Check a hub over its LAN API (after provisioning).")]


def _results(ctx: typer.Context, host: str | None, deep: bool) -> list[Result]:
    if host is None:
        return run_checks(ctx.obj.settings, ctx.obj.registry, deep=deep)
    from cli.hubs import STATUS_TIMEOUT_S, lan_client

    # The hub probes its broker and cloud, and a deep check hashes every model (minutes on a Pi).
    with lan_client(ctx.obj, host, timeout_s=STATUS_TIMEOUT_S) as lan:
        rows: list[dict[str, Any]] = lan.call("GET", "/v1/status", params={"deep": str(deep).lower()})
    return [Result(**row) for row in rows]


def _show(results: list[Result], as_json: bool, title: str) -> None:
    if as_json:
        print_json([asdict(r) for r in results])
        return
    table = Table(title=title)
    for col in ("check", "status", "detail", "fix"):
        table.add_column(col)
    colour = {"ok": "green", "warn": "yellow", "fail": "red"}
    for r in results:
        table.add_row(r.check, f"[{colour[r.status]}]{r.status}[/]", r.detail, r.fix)
    Console().print(table)


def status(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """A quick look: identity, models (sizes), broker, cloud and credentials, audio, disk, clock."""
    _show(_results(ctx, host, deep=False), as_json, "Hub status" + (f" ({host})" if host else ""))


def doctor(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """Everything `status` checks, with every model file hashed; exits 1 if anything failed."""
    results = _results(ctx, host, deep=True)
    _show(results, as_json, "Hub doctor" + (f" ({host})" if host else ""))
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)
