"""`companion cloud keys create | list | revoke`: API keys for OpenAI-style clients, made with the
signed-in user's token (`companion cloud login`). A key is printed once, when it is made."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.common import print_json
from cli.link_cmd import CloudOpt, JsonOpt, client
from edge_runtime.cloud_client import CloudClient

app = typer.Typer(help="API keys for OpenAI-compatible clients (chat, embeddings).", no_args_is_help=True)
err = Console(stderr=True)
TABLE_WIDTH = 80


def call(api: CloudClient, method: str, path: str, what: str, **kw: Any) -> Any:
    response = api._call(method, path, headers={"Authorization": f"Bearer {api.user_token()}"}, **kw)
    if response.status_code >= 400:
        raise api._fail(response, what)
    return response.json()


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the key is for, to tell it apart later.")],
    scopes: Annotated[str, typer.Option(help="Space-separated scopes.")] = "chat embeddings",
    cloud: CloudOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a key; it is shown once here and never again (the cloud keeps only its hash)."""
    api = client(ctx.obj, cloud)
    made = call(api, "POST", "/v1/auth/keys", "creating the key failed", json={"name": name, "scopes": scopes})
    if as_json:
        print_json(made)
        return
    typer.echo(made["key"])
    err.print(f"key {made['id']} ({made['scopes']}); store it now: it is not shown again", highlight=False)
    err.print(f"  use it as OPENAI_API_KEY with OPENAI_BASE_URL={api.base_url}/v1", soft_wrap=True, highlight=False)


@app.command("list")
def list_keys(ctx: typer.Context, cloud: CloudOpt = None, as_json: JsonOpt = False) -> None:
    """Your keys: id, name, scopes, and when each was made, last used and revoked."""
    rows = call(client(ctx.obj, cloud), "GET", "/v1/auth/keys", "listing keys failed")
    if as_json:
        print_json(rows)
        return
    table = Table(width=TABLE_WIDTH, show_lines=False, pad_edge=False)
    for column, ratio in (("id", 3), ("name", 3), ("scopes", 3), ("created", 2), ("used", 2), ("state", 2)):
        table.add_column(column, ratio=ratio, overflow="fold")
    for row in rows:
        state = "revoked" if row["revoked_at"] else "live"
        used = (row["last_used_at"] or "never")[:10]
        table.add_row(row["id"], row["name"], row["scopes"], row["created_at"][:10], used, state)
    Console(width=TABLE_WIDTH).print(table)


@app.command()
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id, from `companion cloud keys list`.")],
    cloud: CloudOpt = None,
) -> None:
    """Revoke a key: clients using it are refused from the next request on."""
    row = call(client(ctx.obj, cloud), "DELETE", f"/v1/auth/keys/{key_id}", "revoking the key failed")
    err.print(f"revoked key {row['id']} ({row['name']})", highlight=False)
