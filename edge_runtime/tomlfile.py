"""Writing the small TOML files the hub and CLI keep (settings, credentials, paired hubs).

One writer so every file is valid TOML whatever the text holds (quotes, emoji, control
characters), and secrets are 0600 from their first byte and replaced whole, never half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from models.errors import CompanionError


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
        raise ConfigInvalid(f"{path} is not valid TOML ({err})",
                            hint="fix it by hand, or move it aside and set it up again") from err  # fmt: skip


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # JSON's string escapes are TOML's; TOML also forbids a raw DEL.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_table(data: dict[str, Any]) -> str:
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in data.items() if value is not None)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, atomically (a temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
