"""`companion hub pair-code | apps | revoke`: pairing the app with this hub, and its tokens."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import Context, print_json
from edge_runtime.api.pairing import PairingStore

out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def store(ctx: Context) -> PairingStore:
    s = ctx.settings
    return PairingStore(
        s.data_dir / "api.sqlite3", code_ttl_s=s.pairing_code_ttl_s, max_failures=s.pairing_max_failures
    )


def pair_code(
    ctx: typer.Context,
    qr: Annotated[bool, typer.Option("--qr", help="Also draw a QR code.")] = False,
    new: Annotated[bool, typer.Option("--new", help="Replace the current code.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the 6-digit code an app types (or scans) to pair with this hub."""
    settings = ctx.obj.settings
    pairing = store(ctx.obj)
    code, expires = pairing.new_code() if new else pairing.current_code()
    pairing.close()
    from edge_runtime.api.discovery import advertised_addresses
    from edge_runtime.api.server import running_api

    hosts = advertised_addresses(settings.api_host) or [settings.api_host]
    port = (running_api(settings.data_dir) or {}).get("port", settings.api_port)
    link = f"http://{hosts[0]}:{port}/app/#pair={code}"
    only_here = _loopback(hosts[0])
    warning = (
        f"the hub's LAN API listens on {hosts[0]} only: a phone cannot reach this link. "
        "Set COMPANION_API_HOST=0.0.0.0 (or the hub's LAN address) and restart `companion hub up`."
    )
    if as_json:
        print_json({"code": code, "expires": expires, "url": link, **({"warning": warning} if only_here else {})})
        return
    out.print(f"[bold]{code[:3]} {code[3:]}[/]  (valid for {max(0, round((expires - time.time()) / 60))} min)")
    if qr:
        import segno

        segno.make(link, error="m").terminal(compact=True)
        out.print(link)
    if only_here:
        err.print(f"[yellow]warning[/] {warning}")


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def apps(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Include revoked apps.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The apps paired with this hub."""
    pairing = store(ctx.obj)
    found = pairing.apps(include_revoked=show_all)
    pairing.close()
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    table = Table("id", "name", "paired", "last used", "revoked")
    for a in found:
        seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(a.last_used)) if a.last_used else "-"
        table.add_row(
            a.id, a.name, time.strftime("%Y-%m-%d %H:%M", time.localtime(a.created)), seen, "yes" if a.revoked else ""
        )
    out.print(table if found else "no apps are paired: `companion hub pair-code`")


def revoke(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="From `companion hub apps`.")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke an app's token: it must pair again."""
    pairing = store(ctx.obj)
    try:
        revoked = pairing.revoke(app_id)
    finally:
        pairing.close()
    if as_json:
        print_json(revoked.to_dict())
    else:
        err.print(f"revoked {revoked.id} ({revoked.name})")


def discover(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to listen.")] = 3.0,
    as_json: JsonOpt = False,
) -> None:
    """Find hubs on this network (mDNS, _companion._tcp)."""
    import asyncio

    from edge_runtime.api.discovery import browse

    hubs = asyncio.run(browse(wait))
    if as_json:
        print_json(hubs)
        return
    if not hubs:
        err.print("no hubs answered; is the hub's API on a LAN address (COMPANION_API_HOST=0.0.0.0)?")
        raise typer.Exit(1)
    table = Table("name", "hub id", "address")
    for hub in hubs:
        table.add_row(hub["name"], hub["hub_id"] or "?", ", ".join(f"{a}:{hub['port']}" for a in hub["addresses"]))
    out.print(table)
