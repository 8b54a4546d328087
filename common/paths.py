"""Where Companion keeps its files, by the platform's conventions (platformdirs: XDG on Linux, so
$XDG_CONFIG_HOME, $XDG_DATA_HOME and $XDG_CACHE_HOME are honoured when set)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "companion"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP)


def data_dir() -> Path:
    return platformdirs.user_data_path(APP)


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP)
