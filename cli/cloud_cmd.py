"""`companion cloud serve`: the cloud services, all in one app or one alone."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import link_cmd

app = typer.Typer(help="Run the cloud services, and sign in to one.", no_args_is_help=True)
app.command("login")(link_cmd.login)
app.command("approve")(link_cmd.approve_code)


@app.command()
def serve(
    service: Annotated[list[str] | None, typer.Option("--service", help="Run only these (repeat).")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8400).")] = None,
    workers: Annotated[int, typer.Option(help="Processes; >1 needs Redis and PostgreSQL.")] = 1,
) -> None:
    """Serve auth, profile, chat and escalation (or the ones named)."""
    import uvicorn

    from cloud.common.app import all_services, create_app
    from cloud.common.settings import CloudSettings
    from models.errors import CompanionError

    settings = CloudSettings()
    unknown = set(service or ()) - set(all_services())
    if unknown:
        raise CompanionError(f"unknown service {', '.join(sorted(unknown))}", code="CLOUD_UNKNOWN_SERVICE",
                             hint=f"choose from {', '.join(all_services())}")  # fmt: skip
    if workers > 1 and not (settings.redis_url and settings.database_url):
        raise CompanionError("several workers need shared state", code="CLOUD_NEEDS_SHARED_STATE",
                             hint="set COMPANION_CLOUD_REDIS_URL and COMPANION_CLOUD_DATABASE_URL")  # fmt: skip
    application = create_app(settings, service or None)
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_config=None, access_log=False,
                ssl_certfile=settings.tls_cert_file, ssl_keyfile=settings.tls_key_file)  # fmt: skip
