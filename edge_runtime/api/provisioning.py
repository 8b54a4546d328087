"""The provisioned settings file, <config_dir>/settings.toml (0600: it holds credentials), written
by the LAN API's PATCH /v1/settings. The environment overrides it (edge_runtime.settings)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.tomlfile import write_toml
from edge_runtime.settings import PROVISIONED, read_provisioned

HEADER = "# Written by the hub's LAN API (provisioning). The environment overrides it.\n"
APPLIED_AT_ONCE = ("hub_name", "room")


class SettingsFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def merge(self, changes: Mapping[str, Any]) -> list[str]:
        """Merges the provisioned names among `changes` into the file (atomically); returns the names
        that need a restart to apply."""
        merged = {**read_provisioned(self.path), **{k: v for k, v in changes.items() if k in PROVISIONED}}
        write_toml(self.path, dict(sorted(merged.items())), header=HEADER)
        return sorted(k for k in changes if k not in APPLIED_AT_ONCE)
