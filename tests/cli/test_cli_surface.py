"""The CLI as a scriptable tool: every command that reads state speaks JSON, shell completion
works, and usage errors are messages with exit code 2, never tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.main import get_command

from cli.main import app

READS_STATE = {"status", "doctor", "models list", "models verify", "hub init", "hub pair-code", "hub apps",
               "hub discover", "hub link", "hub provision", "devices list", "devices show", "devices watch",
               "sync status", "sync log", "ask", "listen", "transcribe"}  # fmt: skip


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            yield from commands(sub, (*path, name))
    else:
        yield " ".join(path), group


def test_every_command_that_reads_state_has_json() -> None:
    found = dict(commands(get_command(app)))
    assert set(found) >= READS_STATE, READS_STATE - set(found)
    missing = [name for name in sorted(READS_STATE)
               if "--json" not in [o for p in found[name].params for o in getattr(p, "opts", [])]]  # fmt: skip
    assert missing == []


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=60, check=False)


def test_shell_completion_and_usage_errors() -> None:
    completion = run("--show-completion", "bash")
    assert completion.returncode == 0 and "complete" in completion.stdout and "COMP_WORDS" in completion.stdout
    for args in (["no-such-command"], ["hub", "provision"], ["hub", "provision", "h", "--code"],
                 ["status", "--json", "--bogus"]):  # fmt: skip
        result = run(*args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.strip(), args


def test_pair_code_prints_the_code_and_a_qr_for_the_app(tmp_path: Path) -> None:
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "c"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    shown = subprocess.run([sys.executable, "-m", "cli", "hub", "pair-code", "--json"], env=env, capture_output=True,
                           text=True, timeout=60, check=True)  # fmt: skip
    record = json.loads(shown.stdout)
    assert re.fullmatch(r"\d{6}", record["code"]) and record["url"].endswith(f"/app/#pair={record['code']}")
    again = json.loads(subprocess.run([sys.executable, "-m", "cli", "hub", "pair-code", "--json"], env=env,
                                      capture_output=True, text=True, timeout=60, check=True).stdout)  # fmt: skip
    assert again["code"] == record["code"]  # the same code until it is used or expires
    qr = subprocess.run([sys.executable, "-m", "cli", "hub", "pair-code", "--qr"], env=env, capture_output=True,
                        text=True, timeout=60, check=True).stdout  # fmt: skip
    assert f"{record['code'][:3]} {record['code'][3:]}" in qr and "█" in qr and record["url"] in qr
