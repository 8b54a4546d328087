"""Reading and writing the small TOML files the hub, the CLI and the registry keep (settings,
credentials, paired hubs, model overrides).

tomli-w writes them, so every file is valid TOML whatever the text holds (quotes, emoji, control
characters); each is replaced whole through a temporary file, never half-written, and private files
are 0600 from their first byte."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from common.errors import CompanionError


class ConfigInvalid(CompanionError):
    code = "CONFIG_INVALID"


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, {} when it is absent; a clear error naming it when it is not TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigInvalid(f"cannot read {path}: {err}", hint="check the file's owner and mode") from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        hint = "fix it by hand, or move it aside and set it up again"
        raise ConfigInvalid(f"{path} is not valid TOML ({err})", hint=hint) from err


def toml_text(data: dict[str, Any], header: str = "") -> str:
    """`data` as TOML (None values left out: TOML has no null), after an optional comment header."""
    return header + tomli_w.dumps(_without_none(data))


def write_toml(path: Path, data: dict[str, Any], *, header: str = "", private: bool = True) -> None:
    """Replace `path` with `data` as TOML, atomically; 0600 when `private` (credentials, settings)."""
    write_atomic(path, toml_text(data, header), private=private)


def write_atomic(path: Path, text: str, *, private: bool = True) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename: a reader sees
    the old file or the new one, never half of one. mkstemp creates it 0600; a public file is then
    given the usual 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _written(path, text)
    try:
        if not private:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_private(path: Path, text: str) -> bool:
    """Create `path` holding `text` unless it exists: 0600 from its first byte and whole when it
    appears (linked into place, not renamed, so a file another process made first is kept and
    wins). True when this call made it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _written(path, text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def _written(path: Path, text: str) -> str:
    """A temporary file beside `path` (mkstemp: 0600) holding `text`, on disk; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}
