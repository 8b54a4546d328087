"""Snapshots kept on the hub: one JPEG per motion or person event (and each `cameras snapshot` taken
without --out), under <data dir>/snapshots/<camera slug>/, never sent anywhere.

A retention limit bounds them: at most `keep` per camera, none older than `max_age_days`. It is
enforced each time a snapshot is written (for that camera) and when the cameras start (for every
folder, a camera no longer configured included). The defaults come from the `[snapshots]` table of
cameras.toml; a camera's `snapshot_keep` and `snapshot_max_age_days` override them.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.tomlfile import ConfigInvalid

if TYPE_CHECKING:
    from edge_runtime.vision.config import CameraConfig

FOLDER = "snapshots"
# 20261130-143612-123-motion.jpg (UTC): only files named so are ever deleted
NAME = re.compile(r"^\d{8}-\d{6}-\d{3}-[a-z_]+(?:-\d+)?\.jpg$")


@dataclass(frozen=True)
class Retention:
    keep: int = 100  # snapshots per camera
    max_age_days: float = 7.0

    def check(self, where: str = "[snapshots]") -> Retention:
        if not isinstance(self.keep, int) or isinstance(self.keep, bool) or self.keep < 1:
            raise ConfigInvalid(f"{where}: keep is a whole number of snapshots, at least 1")
        if not isinstance(self.max_age_days, int | float) or not self.max_age_days > 0:
            raise ConfigInvalid(f"{where}: max_age_days is a number of days above 0")
        return self

    def override(self, keep: int | None, max_age_days: float | None) -> Retention:
        return Retention(
            self.keep if keep is None else keep, self.max_age_days if max_age_days is None else max_age_days
        )


class SnapshotStore:
    def __init__(self, root: Path, default: Retention | None = None, per_camera: dict[str, Retention] | None = None):
        self.root = root
        self.default = (default or Retention()).check()
        self.per_camera = dict(per_camera or {})
        self._lock = threading.Lock()  # each camera writes from its own thread

    @classmethod
    def for_cameras(cls, data_dir: Path, default: Retention, cameras: list[CameraConfig]) -> SnapshotStore:
        per = {c.slug: default.override(c.snapshot_keep, c.snapshot_max_age_days) for c in cameras}
        return cls(data_dir / FOLDER, default, per)

    def retention(self, camera_slug: str) -> Retention:
        return self.per_camera.get(camera_slug, self.default)

    def folder(self, camera_slug: str) -> Path:
        return self.root / camera_slug

    def write(self, camera_slug: str, jpeg: bytes, kind: str, *, at: float | None = None) -> Path:
        """Save one snapshot (0600, in a 0700 folder), then hold that camera to its limit."""
        at = time.time() if at is None else at
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(at)) + f"-{int(at * 1000) % 1000:03d}"
        folder = self.folder(camera_slug)
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path, n = folder / f"{stamp}-{kind}.jpg", 1
            while path.exists():
                n += 1
                path = folder / f"{stamp}-{kind}-{n}.jpg"
            tmp = path.with_suffix(".part")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(jpeg)
            os.utime(tmp, (at, at))
            tmp.replace(path)
            self._prune(camera_slug, time.time())
        return path

    def kept(self, camera_slug: str) -> list[Path]:
        """A camera's snapshots, oldest first."""
        folder = self.folder(camera_slug)
        try:
            found = [p for p in folder.iterdir() if NAME.match(p.name) and p.is_file()]
        except OSError:
            return []
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))

    def prune(self, camera_slug: str, *, now: float | None = None) -> list[Path]:
        with self._lock:
            return self._prune(camera_slug, time.time() if now is None else now)

    def prune_all(self, *, now: float | None = None) -> list[Path]:
        """Every camera's folder held to its limit (at start)."""
        try:
            slugs = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        except OSError:
            return []
        removed: list[Path] = []
        for camera_slug in slugs:
            removed += self.prune(camera_slug, now=now)
        return removed

    def _prune(self, camera_slug: str, now: float) -> list[Path]:
        limit = self.retention(camera_slug)
        kept = self.kept(camera_slug)
        too_old = now - limit.max_age_days * 86400
        gone = [p for p in kept if p.stat().st_mtime < too_old]
        fresh = [p for p in kept if p not in gone]
        gone += fresh[: max(0, len(fresh) - limit.keep)]
        for path in gone:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return gone


def retention_from(table: object) -> Retention:
    """The `[snapshots]` table of cameras.toml (absent: the defaults)."""
    if table is None:
        return Retention()
    if not isinstance(table, dict) or set(table) - {"keep", "max_age_days"}:
        raise ConfigInvalid("[snapshots] takes keep and max_age_days only", hint="see docs/VISION.md")
    return Retention(**table).check()
