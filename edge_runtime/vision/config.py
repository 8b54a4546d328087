"""The hub's cameras, kept in <config_dir>/cameras.toml (one [[camera]] table each).

A camera's source is an http(s):// MJPEG URL, an rtsp:// URL, `device:N` (a local camera through
OpenCV), or a folder of images (the newest image is the current frame).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.errors import CompanionError
from common.tomlfile import ConfigInvalid, read_toml, write_toml
from edge_runtime.vision.snapshots import Retention, retention_from

FILE_NAME = "cameras.toml"
URL_SCHEMES = ("http://", "https://", "rtsp://", "rtsps://")


class CameraNotFound(CompanionError):
    code = "CAMERA_NOT_FOUND"


@dataclass
class CameraConfig:
    name: str  # "front door": what a speaker calls it
    source: str
    room: str | None = None  # "garage": "the camera in the garage", and "what does this say?" in that room
    fps: float = 5.0  # frames a second the detectors look at
    motion: bool = True
    zones: list[list[float]] = field(default_factory=list)  # [x, y, width, height] fractions; none = all
    sensitivity: float = 0.5  # 0..1
    hold_s: float = 10.0  # motion (and a person) stays on this long after the last frame that showed it
    people: bool = False  # look for people: twice a second with motion, else every `people_every_s`
    people_every_s: float = 5.0
    rtsp_transport: str = "tcp"  # "udp" for the few RTSP servers without TCP-interleaved RTP
    snapshot_to_cloud: bool = False  # the one way a frame may leave the hub: off unless the user turns it on
    snapshots: bool = True  # keep a JPEG on the hub at each motion and person event (snapshots.py)
    snapshot_keep: int | None = None  # this camera's limits; None: the [snapshots] table's
    snapshot_max_age_days: float | None = None

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def place(self) -> str:
        """ "in the garage" or "at the front door": how an event names where it happened."""
        return f"in the {self.room}" if self.room else f"at the {self.name}"

    def check(self) -> CameraConfig:
        if not self.name.strip() or not slug(self.name):
            raise ConfigInvalid("a camera needs a name", hint="say what it watches: 'front door', 'garage'")
        if not (self.source.startswith(URL_SCHEMES) or self.source.startswith("device:") or Path(self.source).is_dir()):
            raise ConfigInvalid(
                f"camera {self.name!r}: {self.source!r} is not a camera source",
                hint="an http:// MJPEG or rtsp:// URL, device:0, or a folder of images",
            )
        if self.source.startswith("device:") and not self.source[7:].isdigit():
            raise ConfigInvalid(f"camera {self.name!r}: {self.source!r} needs a device number, like device:0")
        if (
            not 0.1 <= self.fps <= 30
            or not 0.0 <= self.sensitivity <= 1.0
            or self.hold_s < 0
            or self.people_every_s < 0.2
        ):
            raise ConfigInvalid(
                f"camera {self.name!r}: fps 0.1..30, sensitivity 0..1, hold_s >= 0, people_every_s >= 0.2"
            )
        if self.rtsp_transport not in ("tcp", "udp"):
            raise ConfigInvalid(f"camera {self.name!r}: rtsp_transport is tcp or udp")
        Retention().override(self.snapshot_keep, self.snapshot_max_age_days).check(f"camera {self.name!r}")
        for zone in self.zones:
            if len(zone) != 4 or not all(0.0 <= v <= 1.0 for v in zone):
                raise ConfigInvalid(f"camera {self.name!r}: a zone is [x, y, width, height], each 0..1")
        return self

    def public(self) -> dict[str, Any]:
        """What `cameras list --json` shows: everything but the source's credentials."""
        data = asdict(self)
        data["source"] = redact(self.source)
        return data


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def redact(source: str) -> str:
    """rtsp://user:secret@cam/ -> rtsp://user:***@cam/ (the host is after the last @ of the authority)."""
    scheme, sep, rest = source.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return source
    userinfo, _, host = authority.rpartition("@")
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{slash}{path}"


def load(config_dir: Path) -> list[CameraConfig]:
    data = read_toml(config_dir / FILE_NAME)
    cameras: list[CameraConfig] = []
    for table in data.get("camera", []):
        try:
            cameras.append(CameraConfig(**table).check())
        except TypeError as err:
            raise ConfigInvalid(f"{config_dir / FILE_NAME}: {err}", hint="see docs/VISION.md") from err
    return cameras


def load_retention(config_dir: Path) -> Retention:
    """The snapshots' default limits: the `[snapshots]` table (keep, max_age_days)."""
    return retention_from(read_toml(config_dir / FILE_NAME).get("snapshots"))


def save(config_dir: Path, cameras: list[CameraConfig]) -> Path:
    """Replace the file whole, 0600 (a source URL can hold a password); other tables are kept."""
    path = config_dir / FILE_NAME
    tables = [{k: v for k, v in asdict(c).items() if v is not None} for c in cameras]
    write_toml(path, {**read_toml(path), "camera": tables})
    return path


def add(config_dir: Path, camera: CameraConfig) -> list[CameraConfig]:
    cameras = [c for c in load(config_dir) if c.slug != camera.check().slug]
    cameras.append(camera)
    save(config_dir, cameras)
    return cameras


def find(cameras: list[CameraConfig], name: str) -> CameraConfig:
    for camera in cameras:
        if camera.slug == slug(name):
            return camera
    known = ", ".join(c.name for c in cameras) or "none yet"
    raise CameraNotFound(f"no camera named {name!r} (cameras: {known})", hint="companion cameras add NAME SOURCE")
