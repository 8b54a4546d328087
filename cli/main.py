"""The `companion` command. Settings are read here, once, and handed down."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from cli import (
    ask_cmd,
    cameras_cmd,
    cloud_cmd,
    demo_cmd,
    devices_cmd,
    doctor_cmd,
    faces_cmd,
    home_cmd,
    hub_cmd,
    models_cmd,
    sync_cmd,
    voice_cmd,
)
from cli.common import Context, settings_error
from edge_runtime.logs import configure_logging
from edge_runtime.settings import EdgeSettings
from models.errors import CompanionError


def _flags_take_no_value() -> None:
    """Typer's help shows `<bool>` after a flag as if it took a value; a flag shows no type."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "companion", False):
        return

    def display(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display.companion = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display  # type: ignore[method-assign]


_flags_take_no_value()
app = typer.Typer(
    help="Companion: an edge-first AI companion. Provision hubs, manage models, talk to the hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models_cmd.app, name="models")
app.add_typer(hub_cmd.app, name="hub")
app.add_typer(devices_cmd.app, name="devices")
app.add_typer(cameras_cmd.app, name="cameras")
app.add_typer(faces_cmd.app, name="faces")
app.add_typer(home_cmd.app, name="home")
app.add_typer(cloud_cmd.app, name="cloud")
app.add_typer(sync_cmd.app, name="sync")
app.command()(voice_cmd.listen)
app.command()(voice_cmd.transcribe)
app.command()(voice_cmd.say)
app.command()(demo_cmd.demo)
app.command()(ask_cmd.ask)
app.command()(doctor_cmd.status)
app.command()(doctor_cmd.doctor)
err = Console(stderr=True)


@app.callback()
def root(
    ctx: typer.Context,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = None,
) -> None:
    try:
        settings = EdgeSettings.load()
    except ValidationError as exc:
        raise settings_error(exc, "<config dir>/settings.toml") from exc
    if log_level:
        settings.log_level = log_level
    configure_logging(settings.log_level if log_level else "WARNING", settings.log_format)
    ctx.obj = Context(settings)


def main() -> None:
    """Entry point: a CompanionError becomes a clear message and exit code 2, never a traceback."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except CompanionError as exc:  # the devices' and sync's errors too: one base (common.errors)
        err.print(f"[red]error[/] {escape(f'[{exc.code}] {exc.message}')}")  # a message may hold "[...]"
        if exc.hint:
            err.print(f"  fix: {escape(exc.hint)}")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        import click
        from typer.exceptions import TyperException

        # Usage errors (a missing option, a bad value): the parser says what was wrong. Typer ships
        # its own copy of click, so both kinds are checked.
        if isinstance(exc, click.ClickException | TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(getattr(exc, "exit_code", 2))
        import logging

        logging.getLogger("companion").debug("unexpected error", exc_info=True)
        err.print(f"[red]error[/] {escape(f'[INTERNAL] {type(exc).__name__}: {exc}')}")
        err.print("  fix: run again with --log-level DEBUG for details, and report it if it persists")
        sys.exit(70)


if __name__ == "__main__":
    main()
