"""`companion models`: list, install, verify, and point an entry at your own file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import print_json
from models.errors import ModelError
from models.install import install, plan
from models.registry import Override, Registry, Status, load_overrides, sha256_file, write_overrides

app = typer.Typer(help="Manage the pinned offline models.", no_args_is_help=True)
err = Console(stderr=True)
STYLE = {Status.VERIFIED: "green", Status.CUSTOM: "cyan", Status.MISSING: "yellow", Status.CORRUPT: "red"}


TierOption = Annotated[
    str | None, typer.Option("--tier", help="'edge' (a hub), 'cloud' or 'all'. Default: what this install serves.")
]


def installed_tier(tier: str | None) -> str | None:
    """The models this install needs: a hub's install (no cloud extra) needs only the edge tier,
    so a fresh hub does not report the cloud's OCR models as missing. None means every tier."""
    if tier is not None:
        if tier not in ("edge", "cloud", "all"):
            raise typer.BadParameter("choose edge, cloud or all", param_hint="--tier")
        return None if tier == "all" else tier
    import importlib.util

    return None if importlib.util.find_spec("sqlmodel") is not None else "edge"


def _checks(registry: Registry, deep: bool, tier: str | None = None, *, optional: bool = False):
    """Optional models (installed by naming them) count only where asked for, or once installed."""
    return [
        c
        for e in registry.entries(tier, optional=True)
        if (c := registry.check(e.id, deep=deep)).status is not Status.MISSING or optional or not e.optional
    ]


WIDE = 110  # below this many columns the table leaves out role and license (`--json` has them)


def _table(checks, title: str, width: int) -> Table:
    """Fits `width` columns: ids and statuses whole, packages folded, role and license only when there is room."""
    wide = width >= WIDE
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption=None if wide else "role and license: a wider terminal or --json",
    )
    table.add_column("id", no_wrap=True, min_width=max((len(c.entry.id) for c in checks), default=2))
    if wide:
        table.add_column("role", overflow="fold")
    table.add_column("package", overflow="fold", ratio=1)
    table.add_column("status", no_wrap=True, min_width=8)
    table.add_column("MB", no_wrap=True, justify="right")
    if wide:
        table.add_column("license", overflow="fold")
    for c in checks:
        size = sum(f.size for f in c.entry.files)
        status = f"[{STYLE[c.status]}]{c.status.value}[/]"
        if wide:
            table.add_row(c.entry.id, c.entry.role, c.entry.requirement, status, f"{size / 1e6:.1f}", c.entry.license)
        else:
            table.add_row(c.entry.id, c.entry.requirement, status, f"{size / 1e6:.1f}")
    return table


def _as_json(checks) -> list[dict]:
    return [
        {
            "id": c.entry.id,
            "role": c.entry.role,
            "package": c.entry.requirement,
            "status": c.status.value,
            "path": str(c.path) if c.path else None,
            "problems": c.problems,
            "license": c.entry.license,
            "source": c.entry.source,
        }
        for c in checks
    ]


@app.command("list")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="Check sizes only, skip the sha256.")] = False,
    tier: TierOption = None,
) -> None:
    """What is installed, and whether each file matches its pinned sha256."""
    checks = _checks(ctx.obj.registry, deep=not fast, tier=installed_tier(tier), optional=True)
    if as_json:
        print_json(_as_json(checks))
    else:
        out = Console()
        out.print(_table(checks, "Models", out.width))


@app.command()
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    tier: TierOption = None,
) -> None:
    """Check the sha256 of every model file this install needs; exits 1 if any is missing or altered."""
    chosen = installed_tier(tier)
    checks = _checks(ctx.obj.registry, deep=True, tier=chosen)
    if as_json:
        print_json(_as_json(checks))
    else:
        out = Console()
        out.print(_table(checks, "Model verification (sha256)", out.width))
    bad = [c for c in checks if c.status in (Status.MISSING, Status.CORRUPT)]
    for c in bad:
        fix = _fix(ctx.obj.registry, c, chosen)
        err.print(f"[red]{c.entry.id}[/]: {c.status.value}: {'; '.join(c.problems)}. Fix: {fix}")
    if bad:
        raise typer.Exit(1)


def _fix(registry: Registry, check, tier: str | None = None) -> str:
    model_id = check.entry.id
    if registry.override(model_id) is not None:
        return f"`companion models use {model_id} PATH` to re-pin your file, or `companion models reset {model_id}`"
    if check.status is Status.MISSING:
        return f"`companion models install{f' --tier {tier}' if tier else ''}`"
    return f"`companion models install --force {model_id}`"


@app.command("install")
def install_models(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Model ids (default: all).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Reinstall even if intact.")] = False,
    tier: TierOption = None,
) -> None:
    """pip-install the pinned model packages (--no-deps), then verify every file."""
    registry: Registry = ctx.obj.registry
    steps = plan(registry, ids or None, force=force, tier=installed_tier(tier))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("installing model packages", total=len(steps))

        def advance(step):
            verb = "already installed" if step.action == "skip" else "installed"
            progress.console.print(f"  {step.requirement}: {verb}")
            progress.advance(task)

        install(registry, steps, on_step=advance)
    every = registry.entries(optional=True)
    fresh = Registry(every, {e.id: o for e in every if (o := registry.override(e.id))}, registry.cache_dir)
    bad = [
        c
        for c in (fresh.check(i) for s in steps for i in s.model_ids)
        if c.status not in (Status.VERIFIED, Status.CUSTOM)
    ]
    if bad:
        raise ModelError(
            "after install, these failed verification: "
            + ", ".join(f"{c.entry.id} ({'; '.join(c.problems)})" for c in bad),
            code="MODEL_CORRUPT",
            hint="the package index served different files than the pinned ones; report it",
        )
    err.print(f"[green]all {sum(len(s.model_ids) for s in steps)} models verified[/]")


@app.command()
def use(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="The manifest entry to replace.")],
    path: Annotated[Path, typer.Argument(help="Your file or model directory.")],
    pin: Annotated[bool, typer.Option("--pin/--no-pin", help="Record the file's sha256 now.")] = True,
) -> None:
    """Point an entry at your own file (a bigger GGUF, an English vosk model, ...)."""
    settings = ctx.obj.settings
    registry: Registry = ctx.obj.registry
    registry.entry(model_id)  # unknown ids fail clearly
    path = path.expanduser().resolve()
    if not path.exists():
        raise ModelError(f"{path} does not exist", code="MODEL_NOT_INSTALLED")
    sha = sha256_file(path) if pin and path.is_file() else None
    overrides = load_overrides(settings.model_overrides_file)
    overrides[model_id] = Override(path, sha)
    write_overrides(settings.model_overrides_file, overrides)
    err.print(f"{model_id} -> {path}" + (f" (sha256 {sha[:12]}…)" if sha else ""))


@app.command()
def reset(ctx: typer.Context, model_id: Annotated[str, typer.Argument()]) -> None:
    """Go back to the packaged file for an entry."""
    settings = ctx.obj.settings
    overrides = load_overrides(settings.model_overrides_file)
    if overrides.pop(model_id, None) is None:
        err.print(f"{model_id} uses the packaged file already")
        return
    write_overrides(settings.model_overrides_file, overrides)
    err.print(f"{model_id} -> packaged file")
