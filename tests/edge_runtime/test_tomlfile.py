"""The one TOML writer behind settings, credentials, the CLI's hub list and model overrides."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from common.tomlfile import toml_text, write_toml
from edge_runtime.identity import HubFiles

AWKWARD = [
    "o'brien@example.org",
    'say "hi"',
    "back\\slash",
    "Küche 🍳",
    "tab\there",
    "line\nbreak",
    "del\x7f",
    "nul\x00",
    "\u2028",
]


def test_any_text_round_trips_through_toml() -> None:
    data = {f"k{n}": text for n, text in enumerate(AWKWARD)} | {"on": True, "n": 3, "x": 0.1}
    assert tomllib.loads(toml_text(data)) == data
    nested = {"hubs": {"http://[::1]:8400": {"name": 'Küche "1"'}}, "gone": None}
    assert tomllib.loads(toml_text(nested)) == {"hubs": {"http://[::1]:8400": {"name": 'Küche "1"'}}}


def test_private_files_are_0600_from_the_start_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "creds.toml"
    path.write_text("old = 1\n")
    os.chmod(path, 0o644)  # a file left readable by an older version
    write_toml(path, {"token": "secret"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text()) == {"token": "secret"}
    assert [p.name for p in tmp_path.iterdir()] == ["creds.toml"]  # no temp file left behind


def test_a_signed_in_email_with_a_quote_is_kept(tmp_path: Path) -> None:
    files = HubFiles(tmp_path / "config", tmp_path / "data")
    files.save_credentials(files.user_credentials, {"email": "o'brien@example.org", "url": "http://127.0.0.1:1"})
    assert files.credentials(files.user_credentials) == {"email": "o'brien@example.org", "url": "http://127.0.0.1:1"}


def test_a_public_file_is_written_whole_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    write_toml(path, {"hub_id": "hub-1"}, header="# public\n", private=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text().startswith("# public\n") and tomllib.loads(path.read_text()) == {"hub_id": "hub-1"}
