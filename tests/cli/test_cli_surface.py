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

READS_STATE = {
    "status",
    "doctor",
    "models list",
    "models verify",
    "hub init",
    "hub pair-code",
    "hub apps",
    "hub discover",
    "hub link",
    "hub provision",
    "devices list",
    "devices show",
    "devices watch",
    "sync status",
    "sync log",
    "ask",
    "listen",
    "transcribe",
}


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            yield from commands(sub, (*path, name))
    else:
        yield " ".join(path), group


def test_every_command_that_reads_state_has_json() -> None:
    found = dict(commands(get_command(app)))
    assert set(found) >= READS_STATE, READS_STATE - set(found)
    missing = [
        name
        for name in sorted(READS_STATE)
        if "--json" not in [o for p in found[name].params for o in getattr(p, "opts", [])]
    ]
    assert missing == []


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=60, check=False)


def test_shell_completion_and_usage_errors() -> None:
    completion = run("--show-completion", "bash")
    assert completion.returncode == 0 and "complete" in completion.stdout and "COMP_WORDS" in completion.stdout
    for args in (
        ["no-such-command"],
        ["hub", "provision"],
        ["hub", "provision", "h", "--code"],
        ["status", "--json", "--bogus"],
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.strip(), args


def test_pair_code_prints_the_code_and_a_qr_for_the_app(tmp_path: Path) -> None:
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "c"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    shown = subprocess.run(
        [sys.executable, "-m", "cli", "hub", "pair-code", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    record = json.loads(shown.stdout)
    assert re.fullmatch(r"\d{6}", record["code"]) and record["url"].endswith(f"/app/#pair={record['code']}")
    again = json.loads(
        subprocess.run(
            [sys.executable, "-m", "cli", "hub", "pair-code", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert again["code"] == record["code"]  # the same code until it is used or expires
    shown_qr = subprocess.run(
        [sys.executable, "-m", "cli", "hub", "pair-code", "--qr"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    qr = shown_qr.stdout
    assert f"{record['code'][:3]} {record['code'][3:]}" in qr and "█" in qr and record["url"] in qr
    # The default LAN API listens on loopback: a phone cannot open that link, and the hub says so.
    assert "127.0.0.1" in record["url"] and "phone cannot reach" in " ".join(shown_qr.stderr.split())
    assert "COMPANION_API_HOST" in record["warning"]
    on_lan = subprocess.run(
        [sys.executable, "-m", "cli", "hub", "pair-code", "--json"],
        env={**env, "COMPANION_API_HOST": "0.0.0.0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "warning" not in json.loads(on_lan.stdout), on_lan.stdout


def test_broken_files_wrong_addresses_and_strangers_get_clear_errors(tmp_path: Path) -> None:
    """What goes wrong in the field: a hand-edited file, a typo in a host, a web server that is not
    a hub, a cloud URL that answers with an error page. Each is a coded message, never a traceback."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    (www / "health").write_text("<html>a router's login page</html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stranger = f"127.0.0.1:{server.server_address[1]}"
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(tmp_path / "c"),
        "COMPANION_DATA_DIR": str(tmp_path / "d"),
        "COMPANION_CLOUD_URL": f"http://{stranger}",
        "COMPANION_MQTT_URL": "mqtt://127.0.0.1:1",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )

    try:
        not_a_hub = cli("hub", "provision", stranger, "--code", "123456", "--json")
        assert not_a_hub.returncode == 2 and "Traceback" not in not_a_hub.stderr
        steps = json.loads(not_a_hub.stdout)["steps"]
        assert steps[0]["status"] == "fail" and "HUB_BAD_REPLY" in steps[0]["detail"], steps
        bad_host = cli("hub", "provision", "hub:notaport", "--code", "123456")
        assert bad_host.returncode == 2 and "HUB_BAD_ADDRESS" in bad_host.stderr, bad_host.stderr
        status = cli("status", "--json")  # the cloud URL serves that HTML for /health
        rows = {r["check"]: r for r in json.loads(status.stdout)}
        assert rows["cloud"]["status"] == "fail" and rows["cloud"]["fix"], rows["cloud"]
        assert rows["broker"]["status"] == "fail" and set(rows) >= {"identity", "models", "audio", "disk"}
        (tmp_path / "c").mkdir(exist_ok=True)
        (tmp_path / "c" / "hubs.toml").write_text('[hubs."http://x"\ntoken = ')
        broken = cli("status", "--host", "x")
        assert broken.returncode == 2 and "CONFIG_INVALID" in broken.stderr and "hubs.toml" in broken.stderr
        assert "Traceback" not in broken.stderr + bad_host.stderr + status.stderr
    finally:
        server.shutdown()


def test_help_settings_errors_and_stderr_read_as_a_user_expects(tmp_path: Path) -> None:
    """A flag's help shows no `<bool>` value; a bad setting names the variable a user sets (never its
    value: it may be a secret); an ordinary command prints no warnings."""
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "c"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    shown = subprocess.run(
        [sys.executable, "-m", "cli", "hub", "link", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "--approve" in shown and "--json" in shown and "<bool>" not in shown and "<str>" in shown
    bad = subprocess.run(
        [sys.executable, "-m", "cli", "status"],
        env={**env, "COMPANION_API_PORT": "s3cret-ish"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "CONFIG_INVALID" in bad.stderr and "COMPANION_API_PORT" in bad.stderr
    assert "api_port\n" not in bad.stderr and "s3cret-ish" not in bad.stderr and "pydantic.dev" not in bad.stderr
    for args in (["models", "list", "--json"], ["hub", "init", "--json"], ["status", "--json"]):
        quiet = subprocess.run(
            [sys.executable, "-m", "cli", *args],
            env={**env, "COMPANION_MQTT_URL": "mqtt://127.0.0.1:1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert quiet.stdout.strip() and quiet.stderr == "", (args, quiet.stderr)
    login = subprocess.run(
        [sys.executable, "-m", "cli", "cloud", "login", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "required" not in login and "prompted if not given" in login
