"""A home: the secret its hubs share. Hubs with the same home key are peers; any other hub is a stranger.

The key is made by the first hub (`hub up` makes one when there is none) and handed to the others once,
by the user, as a join token (`companion home invite` on one, `companion home join TOKEN` on the next).
The key never travels on MQTT: peers prove it by sealing every message with it (see wire.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from common.errors import CompanionError
from common.tomlfile import write_atomic

TOKEN_PREFIX = "home1."
KEY_BYTES = 32


class HomeError(CompanionError):
    code = "HOME_INVALID"


@dataclass(frozen=True)
class Home:
    key: bytes

    @property
    def home_id(self) -> str:
        """Names the home's MQTT topics; derived one-way, so it says nothing of the key."""
        return hashlib.sha256(b"companion-home-id\0" + self.key).hexdigest()[:16]

    @property
    def seal_key(self) -> bytes:
        return hashlib.sha256(b"companion-home-seal\0" + self.key).digest()

    def token(self) -> str:
        return TOKEN_PREFIX + base64.urlsafe_b64encode(self.key).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Home:
        token = token.strip()
        if not token.startswith(TOKEN_PREFIX):
            hint = "copy it from `companion home invite` on a hub of the home"
            raise HomeError("not a home join token", code="HOME_TOKEN_INVALID", hint=hint)
        body = token[len(TOKEN_PREFIX) :]
        try:
            key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as err:
            raise HomeError("the home join token is damaged", code="HOME_TOKEN_INVALID") from err
        if len(key) != KEY_BYTES:
            raise HomeError("the home join token is damaged", code="HOME_TOKEN_INVALID")
        return cls(key)

    @classmethod
    def new(cls) -> Home:
        return cls(secrets.token_bytes(KEY_BYTES))


def home_file(config_dir: Path) -> Path:
    return config_dir / "home.key"


def read_home(path: Path) -> Home | None:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise HomeError(f"cannot read {path}: {err}", hint="check the file's owner and mode") from err
    return Home.from_token(text)


def load_home(path: Path) -> Home:
    """This hub's home, made on first use (a home of one until another hub joins it)."""
    home = read_home(path)
    if home is None:
        home = Home.new()
        write_atomic(path, home.token() + "\n", private=True)
    return home


def join_home(path: Path, token: str) -> Home:
    """Replace this hub's home with the one in `token` (0600 from its first byte)."""
    home = Home.from_token(token)
    write_atomic(path, home.token() + "\n", private=True)
    os.chmod(path, 0o600)
    return home
