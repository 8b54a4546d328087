""" "who is at the front door?": the faces in a camera's latest frame, named from the faces the household
enrolled (`companion faces enroll`), on this hub and, with `faces_sync`, on the household's other hubs.
Only enrolled people are ever named; anyone else is "someone I don't know". Without the `faces` extra, or
with nobody enrolled, the answer says so (and why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from common.errors import CompanionError
from edge_runtime.vision.known_faces import KnownFaces
from models.faces import MATCH_DISTANCE, FaceRecognizer, FacesNotInstalled, closest

if TYPE_CHECKING:
    from edge_runtime.vision.shared_faces import SharedFaces

ENROL = "companion faces enroll NAME PHOTO"
INSTALL = "pip install 'companion[faces]'"


class WhoIsThere:
    """Names the faces in a frame. The recognizer loads on first use (about a second), once."""

    def __init__(
        self,
        known: KnownFaces,
        recognizer: Callable[[], FaceRecognizer],
        *,
        threshold: float = MATCH_DISTANCE,
        shared: SharedFaces | None = None,
    ) -> None:
        self.known, self.threshold, self.shared = known, threshold, shared
        self._factory = recognizer
        self._recognizer: FaceRecognizer | None = None
        self._error: CompanionError | None = None

    async def answer(self, frame: np.ndarray, where: str) -> tuple[str, dict[str, Any]]:
        """The reply and its data for the frame of the camera `where` ("at the front door")."""
        recognizer = await self._load()
        if recognizer is None:
            assert self._error is not None
            reply = f"Face recognition isn't installed on this hub: {INSTALL}."
            if not isinstance(self._error, FacesNotInstalled):
                reply = f"Face recognition isn't working on this hub: {self._error.message}"
            return reply, {"declined": "faces-unavailable", "code": self._error.code}
        known = await asyncio.to_thread(self.known.load)
        if self.shared is not None:  # the synced document is read here, on the loop that owns it
            known = self.shared.recognisable(known)
        if not known:
            return f"Nobody is enrolled for face recognition yet: {ENROL}.", {"declined": "nobody-enrolled"}
        seen = await asyncio.to_thread(recognizer.faces, frame)
        matches = [closest(face.embedding, known, threshold=self.threshold) for face in seen]
        names = sorted({m.name for m in matches if m.name})
        strangers = sum(1 for m in matches if m.name is None)
        distances = [round(m.distance, 3) for m in matches]
        data = {"faces": len(seen), "known": names, "unknown": strangers, "distances": distances}
        if not seen:
            return f"I don't see anyone {where}.", data
        return f"I see {_listed(names, strangers)} {where}.", data

    async def _load(self) -> FaceRecognizer | None:
        if self._recognizer is None and self._error is None:
            try:
                self._recognizer = await asyncio.to_thread(self._factory)
            except CompanionError as err:
                self._error = err
        return self._recognizer


def _listed(names: list[str], strangers: int) -> str:
    parts = list(names)
    if strangers:
        parts.append("someone I don't know" if strangers == 1 else f"{strangers} people I don't know")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
