"""`companion cloud serve | signup | login | approve | keys`: run the cloud, or use your account on one."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import keys_cmd, link_cmd

app = typer.Typer(help="Run the cloud services, and use your account on one.", no_args_is_help=True)
app.command("signup")(link_cmd.signup)
app.command("login")(link_cmd.login)
app.command("approve")(link_cmd.approve_code)
app.add_typer(keys_cmd.app, name="keys")


@app.command()
def serve(
    service: Annotated[list[str] | None, typer.Option("--service", help="Run only these (repeat).")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8400).")] = None,
    workers: Annotated[int, typer.Option(help="Processes; >1 needs Redis and PostgreSQL.")] = 1,
) -> None:
    """Serve auth, profile, chat and escalation (or the ones named)."""
    from cloud.serve import require_cloud_extra

    require_cloud_extra()
    from cloud.common.settings import CloudSettings
    from cloud.serve import serve as run

    settings = CloudSettings()
    if service:
        settings.services = list(service)
    run(settings, host=host, port=port, workers=workers)
