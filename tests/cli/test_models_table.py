"""`companion models list` fits the terminal: at 80 columns every line fits, each model's id and
status are whole, and a wide terminal shows role and license too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from models.registry import Registry


def listing(columns: int, tmp: Path) -> list[str]:
    env = {**os.environ, "COLUMNS": str(columns), "COMPANION_CONFIG_DIR": str(tmp / "config"),
           "COMPANION_DATA_DIR": str(tmp / "data"), "TERM": "dumb"}  # fmt: skip
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "cli", "models", "list", "--fast", "--tier", "all"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def rows(lines: list[str], ids: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        words = line.split()
        if words and words[0] in ids:
            found[words[0]] = line
    return found


def test_models_list_fits_80_columns(tmp_path: Path) -> None:
    entries = Registry().entries()
    ids = [e.id for e in entries]
    lines = listing(80, tmp_path)
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, "\n".join(too_long)
    found = rows(lines, ids)
    assert sorted(found) == sorted(ids), "\n".join(lines)  # every id whole, at the start of its row
    for line in found.values():
        assert re.search(r"\b(verified|custom|missing|corrupt)\b", line) and re.search(r" \d+\.\d\s*$", line), line
    assert "…" not in "\n".join(lines)  # nothing cut off
    header = next(line for line in lines if line.lstrip().startswith("id"))
    assert all(col in header.split() for col in ("id", "package", "status", "MB")) and "license" not in header


def test_models_list_shows_role_and_license_when_wide(tmp_path: Path) -> None:
    entries = Registry().entries()
    lines = listing(160, tmp_path)
    assert max(len(line) for line in lines) <= 160
    header = next(line for line in lines if line.lstrip().startswith("id"))
    assert all(col in header for col in ("role", "package", "status", "MB", "license")), header
    found = rows(lines, [e.id for e in entries])
    assert found[entries[0].id].split()[1] == entries[0].role, found[entries[0].id]
