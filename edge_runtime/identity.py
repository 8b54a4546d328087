"""The hub's own identity and credentials, kept in its config directory (XDG), secrets 0600."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.tomlfile import read_toml, write_atomic, write_toml
from models.errors import CompanionError


class IdentityError(CompanionError):
    code = "HUB_IDENTITY"


@dataclass(frozen=True)
class HubIdentity:
    hub_id: str
    public_key: str  # hex, raw Ed25519
    created: float


class HubFiles:
    """hub.toml (public), identity.key (private, 0600) and cloud credentials (0600)."""

    def __init__(self, config_dir: Path, data_dir: Path) -> None:
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.hub_toml = config_dir / "hub.toml"
        self.key_file = config_dir / "identity.key"
        self.user_credentials = config_dir / "cloud-user.toml"
        self.hub_credentials = config_dir / "cloud-hub.toml"

    def identity(self) -> HubIdentity | None:
        if not self.hub_toml.exists():
            return None
        data = read_toml(self.hub_toml)
        return HubIdentity(data["hub_id"], data["public_key"], float(data["created"]))

    def require_identity(self) -> HubIdentity:
        found = self.identity()
        if found is None:
            raise IdentityError("this hub has no identity yet", hint="run `companion hub init`")
        return found

    def init(self, *, force: bool = False) -> tuple[HubIdentity, bool]:
        """Create the identity once; (identity, created?). Never overwrites without `force`."""
        existing = self.identity()
        if existing is not None and not force:
            return existing, False
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        identity = HubIdentity(f"hub-{hashlib.sha256(public).hexdigest()[:16]}", public.hex(), time.time())
        write_atomic(self.key_file, pem.decode())
        self.config_dir.mkdir(parents=True, exist_ok=True)
        public_id = {"hub_id": identity.hub_id, "public_key": identity.public_key, "created": identity.created}
        write_toml(self.hub_toml, public_id, private=False)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if force:
            self.hub_credentials.unlink(missing_ok=True)  # a new identity is not linked
        return identity, True

    def save_credentials(self, path: Path, data: dict[str, Any]) -> None:
        write_toml(path, data)

    def credentials(self, path: Path) -> dict[str, Any] | None:
        return read_toml(path) or None
