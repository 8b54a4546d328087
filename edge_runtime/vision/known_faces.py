"""The faces a household enrolled (`companion faces enroll`), kept on the hub only: one JSON file,
<data_dir>/faces.json, created 0600 from its first byte and replaced whole on every change.

It holds each person's 128-number embeddings (dlib's ResNet), never a photo. An embedding is
biometric data: it is not part of the synced profile (`faces_sync` is off, and syncing it is not built).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.errors import CompanionError
from common.tomlfile import write_atomic
from models.faces import DIMENSIONS, RESNET

FILE = "faces.json"
VERSION = 1


MAX_NAME = 40  # what the hub says aloud: "I see Alice at the door"


class FacesFileInvalid(CompanionError):
    code = "FACES_FILE_INVALID"


class UnknownFace(CompanionError):
    code = "FACES_UNKNOWN_NAME"


class KnownFaces:
    """Name -> embeddings. Reads the file on each call, so a hub sees what the CLI just enrolled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> KnownFaces:
        return cls(data_dir / FILE)

    def load(self) -> dict[str, list[np.ndarray]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            hint = "move it aside and enrol again: companion faces enroll NAME PHOTO"
            raise FacesFileInvalid(f"cannot read {self.path}: {err}", hint=hint) from err
        people = raw.get("people") if isinstance(raw, dict) else None
        if raw.get("model") != RESNET or not isinstance(people, dict):
            raise FacesFileInvalid(f"{self.path} was not written by this version", hint="enrol the faces again")
        known = {}
        for name, samples in people.items():
            arrays = [np.asarray(s, dtype=np.float64) for s in samples]
            if not arrays or any(a.shape != (DIMENSIONS,) for a in arrays):
                raise FacesFileInvalid(f"{self.path}: {name!r} has no valid embedding", hint="enrol them again")
            known[str(name)] = arrays
        return known

    def counts(self) -> dict[str, int]:
        """Each enrolled name and how many photos it has."""
        return {name: len(samples) for name, samples in sorted(self.load().items(), key=lambda kv: kv[0].lower())}

    def enroll(self, name: str, embeddings: Sequence[np.ndarray]) -> int:
        """Add photos' embeddings to `name` (same name in any case); returns how many it has now."""
        name = " ".join(name.split())
        if not name:
            raise UnknownFace("a name is needed", hint="companion faces enroll NAME PHOTO")
        if len(name) > MAX_NAME or not any(c.isalnum() for c in name):
            raise UnknownFace(
                f"{name[:MAX_NAME]!r}... is not a name to say aloud"
                if len(name) > MAX_NAME
                else f"{name!r} is no name",
                hint=f"a person's name: up to {MAX_NAME} characters, with a letter or a digit",
            )
        known = self.load()
        current = self._find(known, name) or name
        samples = [*known.pop(current, []), *(np.asarray(e, dtype=np.float64) for e in embeddings)]
        known[name] = samples
        self._save(known)
        return len(samples)

    def forget(self, name: str) -> str:
        """Remove a person; returns the name as it was enrolled."""
        known = self.load()
        current = self._find(known, name)
        if current is None:
            raise UnknownFace(f"nobody called {name!r} is enrolled", hint="companion faces list")
        del known[current]
        self._save(known)
        return current

    @staticmethod
    def _find(known: dict[str, list[np.ndarray]], name: str) -> str | None:
        wanted = " ".join(name.split()).casefold()
        return next((n for n in known if n.casefold() == wanted), None)

    def _save(self, known: dict[str, list[np.ndarray]]) -> None:
        people = {name: [[round(float(v), 7) for v in s] for s in samples] for name, samples in known.items()}
        text = json.dumps({"version": VERSION, "model": RESNET, "people": people}, ensure_ascii=False)
        write_atomic(self.path, text + "\n", private=True)
