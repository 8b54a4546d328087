"""The hub's TOML files are written by `common.tomlfile` (tomli-w, atomic, 0600 when private)."""

from common.tomlfile import ConfigInvalid, read_toml, write_atomic, write_toml

__all__ = ["ConfigInvalid", "read_toml", "write_atomic", "write_toml"]
