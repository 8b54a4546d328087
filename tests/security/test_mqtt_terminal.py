"""Terminal injection: what a device says about itself (its name, its state) is printed by `companion devices
list | show | watch` without the escape sequences, control characters and markup it carries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from device_drivers.mosquitto import Mosquitto
from tests.security.mqtt_attack import publish

EVIL_NAME = "Evil\x1b]0;pwned\x07\x1b[2J\x1b[31mLamp\u202e\x9b31m [link=https://evil.example]click[/link]\r\x08"
EVIL_MODE = "heat\x1b[8m\x1b]52;c;cHduZWQ=\x07"
# What must never reach the terminal: the title change, clear screen, colours, the clipboard write (OSC 52),
# an 8-bit CSI, a right-to-left override, and a hyperlink made from markup in the name.
INJECTED = ["\x1b]0;", "\x1b[2J", "\x1b[31m", "\x1b[8m", "\x1b]52", "\x07", "\x9b", "\u202e", "\x1b]8;", "\r", "\x08"]


def _cli(broker: Mosquitto, tmp_path: Path, *args: str, colour: bool) -> str:
    env = {
        **os.environ,
        "COMPANION_MQTT_URL": broker.url,
        "COMPANION_DATA_DIR": str(tmp_path / "data"),
        "COMPANION_CONFIG_DIR": str(tmp_path / "config"),
    }
    env.pop("NO_COLOR", None)
    if colour:  # as in a terminal: rich writes its own escape sequences, and must write only those
        env.update(FORCE_COLOR="1", TERM="xterm-256color", COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_device_names_and_state_are_printed_without_escape_sequences(mosquitto: Mosquitto, tmp_path: Path) -> None:
    publish(
        mosquitto,
        [
            (
                "homeassistant/light/evil_lamp/config",
                {"name": EVIL_NAME, "uniq_id": "evil_lamp", "cmd_t": "evil/l/set", "stat_t": "evil/l/state"},
            ),
            (
                "homeassistant/climate/evil_heat/config",
                {"name": "Heater", "uniq_id": "evil_heat", "mode_cmd_t": "evil/h/set", "mode_stat_t": "evil/h/mode"},
            ),
            ("evil/h/mode", EVIL_MODE),
            ("evil/l/state", "ON"),
        ],
    )
    runs = {
        "list": ("devices", "list", "--wait", "1"),
        "show": ("devices", "show", "ha:evil_lamp", "--wait", "1"),
        "show heater": ("devices", "show", "Heater", "--wait", "1"),
        "watch": ("devices", "watch", "--seconds", "2"),
    }
    for colour in (False, True):
        for what, args in runs.items():
            out = _cli(mosquitto, tmp_path, *args, colour=colour)
            assert "Evil" in out or "Heater" in out, (what, out)
            leaked = [s for s in INJECTED if s in out]
            assert not leaked, (what, colour, leaked, out)
            if not colour:
                assert "\x1b" not in out, (what, out)
    plain = _cli(mosquitto, tmp_path, "devices", "list", "--wait", "1", colour=False)
    assert "[link=https://evil.example]click[/link]" in plain  # shown as the text it is, not as markup
