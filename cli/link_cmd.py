"""`companion hub init | link | unlink` and `companion cloud signup | login | approve`: from no account
to a linked hub."""

from __future__ import annotations

import socket
from typing import Annotated

import typer
from rich.console import Console

from cli.common import Context, print_json
from edge_runtime.checks import cloud_client
from edge_runtime.cloud_client import CloudClient
from edge_runtime.identity import HubFiles

err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CloudOpt = Annotated[str | None, typer.Option("--cloud", help="Cloud URL (default: COMPANION_CLOUD_URL).")]


def files(ctx: Context) -> HubFiles:
    return HubFiles(ctx.settings.config_dir, ctx.settings.data_dir)


def client(ctx: Context, url: str | None = None) -> CloudClient:
    return CloudClient(url, files(ctx)) if url else cloud_client(ctx.settings)


def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Replace the identity.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create this hub's identity (Ed25519 key, hub id), config and data directories. Safe to re-run."""
    identity, created = files(ctx.obj).init(force=force)
    if as_json:
        print_json({"hub_id": identity.hub_id, "created": created, "config_dir": str(ctx.obj.settings.config_dir)})
        return
    verb = "created" if created else "already initialised (use --force to replace; it unlinks the hub)"
    err.print(
        f"hub {identity.hub_id}: {verb}\n  config: {ctx.obj.settings.config_dir}\n  data:   {ctx.obj.settings.data_dir}"
    )


def link(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="How the hub appears in your account.")] = None,
    cloud: CloudOpt = None,
    approve: Annotated[bool, typer.Option(help="Approve with your own `cloud login` instead of a browser.")] = False,
    host: Annotated[str | None, typer.Option("--host", help="Link a provisioned hub over its LAN API.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Link this hub to your cloud account (OAuth device grant): shows a code, then waits for approval."""
    if host is not None:
        from cli.provision_cmd import link_remote

        link_remote(ctx.obj, host, cloud=cloud, approve=approve, name=name, as_json=as_json)
        return
    identity = files(ctx.obj).require_identity()
    api = client(ctx.obj, cloud)
    grant = api.start_link(identity.hub_id, name or socket.gethostname()[:100])
    show_grant(grant)
    if approve:
        api.approve(grant["user_code"])
        err.print("approved with your signed-in account")
    with err.status("waiting for approval…"):
        record = api.wait_for_link(grant)
    if as_json:
        print_json({"hub_id": identity.hub_id, "device_id": record["device_id"], "linked": True, "cloud": api.base_url})
    else:
        err.print(f"[green]linked[/] hub {identity.hub_id} as device {record['device_id']} on {api.base_url}")


def unlink(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="A provisioned hub, over its LAN API.")] = None,
) -> None:
    """Revoke this hub's cloud credentials (at the cloud, then here)."""
    if host is not None:
        from cli.provision_cmd import unlink_remote

        unlink_remote(ctx.obj, host)
        return
    client(ctx.obj).unlink()
    err.print("unlinked: the cloud no longer accepts this hub's tokens")


def show_grant(grant: dict[str, str]) -> None:
    """The address and code on lines of their own, never wrapped: a terminal turns them into links."""
    err.print(
        f"To link this hub, open {grant['verification_uri']} and enter the code {grant['user_code']}",
        soft_wrap=True,
        highlight=False,
    )
    if grant.get("verification_uri_complete"):
        err.print(f"  or open {grant['verification_uri_complete']}", soft_wrap=True, highlight=False)


EmailOpt = Annotated[str | None, typer.Option(help="Your account's email (prompted if not given).")]
PasswordOpt = Annotated[str | None, typer.Option(help="Your password (prompted if not given, hidden).")]


def login(ctx: typer.Context, email: EmailOpt = None, password: PasswordOpt = None, cloud: CloudOpt = None) -> None:
    """Sign in to the cloud (your account, not the hub's); tokens are kept 0600 in the config dir."""
    email = email or typer.prompt("Email")
    password = password or typer.prompt("Password", hide_input=True)
    api = client(ctx.obj, cloud)
    api.login(email, password)
    err.print(f"signed in to {api.base_url} as {email}")


def signup(
    ctx: typer.Context,
    email: EmailOpt = None,
    password: PasswordOpt = None,
    name: Annotated[str, typer.Option(help="What the companion calls you.")] = "",
    cloud: CloudOpt = None,
) -> None:
    """Create an account on the cloud, then sign in to it (tokens kept 0600 in the config dir)."""
    email = email or typer.prompt("Email")
    password = password or typer.prompt("Password (10 characters or more)", hide_input=True, confirmation_prompt=True)
    api = client(ctx.obj, cloud)
    register(api, email, password, name)
    api.login(email, password)
    err.print(f"created your account on {api.base_url} and signed in as {email}")


def register(api: CloudClient, email: str, password: str, name: str) -> None:
    import httpx

    from edge_runtime.cloud_client import CloudError

    try:
        response = api.http.post("/v1/auth/register", json={"email": email, "password": password, "name": name})
    except httpx.HTTPError as exc:
        raise CloudError(
            f"cannot reach the cloud at {api.base_url} ({type(exc).__name__})",
            code="CLOUD_UNREACHABLE",
            hint="check COMPANION_CLOUD_URL and the network",
        ) from exc
    if response.status_code != 201:
        raise api._fail(response, "sign-up failed")


def approve_code(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The code a hub shows.")],
    deny: Annotated[bool, typer.Option("--deny", help="Decline instead.")] = False,
) -> None:
    """Approve (or decline) a hub's link code with your signed-in account."""
    result = client(ctx.obj).approve(code, allow=not deny)
    err.print(f"{result['status']}: {result['client_id']}")
