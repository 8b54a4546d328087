"""The faces a household enrolled (`companion faces enroll`), kept on the hub only: one JSON file,
<data_dir>/faces.json, created 0600 from its first byte and replaced whole on every change.

It holds each person's 128-number embeddings (dlib's ResNet), never a photo. An embedding is
biometric data: it enters the synced profile only when the user allows it (`faces_sync`, off by default;
edge_runtime/vision/shared_faces.py), and the file then also notes which samples this hub published.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.errors import CompanionError
from common.tomlfile import write_atomic
from models.faces import DIMENSIONS, RESNET
from sync.faces import MAX_NAME

FILE = "faces.json"
VERSION = 1


class FacesFileInvalid(CompanionError):
    code = "FACES_FILE_INVALID"


class UnknownFace(CompanionError):
    code = "FACES_UNKNOWN_NAME"


@dataclass
class LocalFaces:
    """What the file holds: the people enrolled here and, with `faces_sync`, the synced keys of the
    samples this hub published to the replica whose client id is `replica`."""

    people: dict[str, list[np.ndarray]]
    replica: str = ""
    published: set[str] = field(default_factory=set)


class KnownFaces:
    """Name -> embeddings. Reads the file on each call, so a hub sees what the CLI just enrolled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> KnownFaces:
        return cls(data_dir / FILE)

    def load(self) -> dict[str, list[np.ndarray]]:
        return self.state().people

    def state(self) -> LocalFaces:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return LocalFaces({})
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
        synced = raw.get("synced")
        synced = synced if isinstance(synced, dict) else {}
        keys = synced.get("published")
        published = {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()
        return LocalFaces(known, str(synced.get("replica") or ""), published)

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
        state = self.state()
        known = state.people
        current = self.find(known, name) or name
        samples = [*known.pop(current, []), *(np.asarray(e, dtype=np.float64) for e in embeddings)]
        known[name] = samples
        self.save(state)
        return len(samples)

    def forget(self, name: str) -> str:
        """Remove a person; returns the name as it was enrolled."""
        state = self.state()
        current = self.find(state.people, name)
        if current is None:
            raise UnknownFace(f"nobody called {name!r} is enrolled", hint="companion faces list")
        del state.people[current]
        self.save(state)
        return current

    @staticmethod
    def find(known: dict[str, list[np.ndarray]], name: str) -> str | None:
        wanted = " ".join(name.split()).casefold()
        return next((n for n in known if n.casefold() == wanted), None)

    def save(self, state: LocalFaces) -> None:
        people = {name: [rounded(s) for s in samples] for name, samples in state.people.items()}
        raw: dict[str, object] = {"version": VERSION, "model": RESNET, "people": people}
        if state.replica:
            raw["synced"] = {"replica": state.replica, "published": sorted(state.published)}
        write_atomic(self.path, json.dumps(raw, ensure_ascii=False) + "\n", private=True)


def rounded(sample: np.ndarray) -> list[float]:
    """A sample as the file keeps it (and as it is published): 7 decimals are far below any distance."""
    return [round(float(v), 7) for v in sample]
