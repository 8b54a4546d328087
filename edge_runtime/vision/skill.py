"""Questions about what the cameras see, answered on the hub from the camera's latest frame:
"is anyone at the front door?", "how many people are in the living room?", "who is at the door?"
(enrolled faces: edge_runtime/vision/who.py), and "what does this say?" (QR codes and text, on the
camera in the speaker's room). A place with no camera is declined.

The people questions reuse a camera's scheduled detection (`people = true`) when it looked at a frame
at most `fresh_s` ago (2 s), and only otherwise run the detector on the newest frame.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from common.errors import CompanionError
from edge_runtime.skills.builtin import normalize
from edge_runtime.vision.camera import Camera
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.who import WhoIsThere
from models.vision import Ocr
from models.vision_hub import FindsPeople, QrReader

OCR_HINT = "pip install 'companion[edge,ocr]', then `companion models install`"
_WHO = r"(?:any ?one|any ?body|some ?one|some ?body|a person|people|anybody|anyone)"
_PLACE = r"(?P<prep>at|in|on|by|outside) (?P<place>.+)"
PEOPLE = re.compile(rf"^(?:is|are) (?:there )?{_WHO}(?: there)? {_PLACE}$")
WHO = re.compile(rf"^who(?:'s| is| are)(?: there)? {_PLACE}$")
COUNT = re.compile(rf"^how many (?:people|persons) are (?:there )?{_PLACE}$")
READ = re.compile(
    r"^(?:can you )?(?:what does (?:this|that|it|the sign|the label|the code|the qr code) say|"
    r"read (?:this|that|it|the sign|the label|the code|the qr code)(?: for me| to me| out)?(?: please)?|"
    r"what(?:'s| is) written (?:here|on this|on it)|scan (?:this|the) (?:qr )?code)$"
)
WIFI = re.compile(r"^WIFI:(?:.*;)?S:(?P<ssid>(?:[^;\\]|\\.)*)")
FRESH_S = 2.0  # a scheduled people detection this recent answers "is anyone ...?" without a new one


@dataclass
class Answer:
    intent: str  # "vision_people", "vision_count", "vision_who", "vision_read"
    reply: str
    data: dict[str, Any] = field(default_factory=dict)


class VisionSkill:
    def __init__(
        self,
        service: VisionService,
        *,
        here: str | None,
        people: FindsPeople | None = None,
        qr: QrReader | None = None,
        ocr: Callable[[], Ocr] | None = None,
        who: WhoIsThere | None = None,
        fresh_s: float = FRESH_S,
    ) -> None:
        self.service, self.here, self.who, self.fresh_s = service, here, who, fresh_s
        self._people, self._qr, self._ocr_factory = people, qr, ocr
        self._ocr: Ocr | None = None
        self._ocr_error: str | None = None

    def intent_of(self, text: str) -> str | None:
        said = normalize(text)
        if PEOPLE.match(said):
            return "vision_people"
        if COUNT.match(said):
            return "vision_count"
        if WHO.match(said):
            return "vision_who"
        if READ.match(said):
            return "vision_read"
        return None

    async def handle(self, text: str) -> Answer | None:
        said = normalize(text)
        if (m := PEOPLE.match(said) or COUNT.match(said)) is not None:
            return await self._people_at(m, counting=m.re is COUNT)
        if (m := WHO.match(said)) is not None:
            return await self._who_at(m)
        if READ.match(said):
            return await self._read()
        return None

    # --- people

    def _camera_at(self, m: re.Match[str]) -> tuple[Camera | None, str, str]:
        """The camera a question names, the place as said, and where it is ("at the front door").
        "the door" is the one camera whose name ends in "door", when there is only one."""
        place = m["place"].strip()
        where = f"{m['prep']} {place if place.startswith('the ') or m['prep'] == 'outside' else 'the ' + place}"
        camera = self.service.at(place)
        if camera is None and place.removeprefix("the ") == "door":
            doors = [c for c in self.service.cameras.values() if c.config.slug.endswith("door")]
            camera = doors[0] if len(doors) == 1 else None
        return camera, place, where

    async def _who_at(self, m: re.Match[str]) -> Answer:
        camera, place, where = self._camera_at(m)
        if camera is None:
            return Answer("vision_who", f"I don't have a camera {where}.", {"declined": "no-camera", "place": place})
        if self.who is None:
            return Answer("vision_who", "Face recognition isn't set up on this hub.", {"declined": "no-faces"})
        frame, unavailable = self._frame(camera)
        if frame is None:
            return unavailable("vision_who")
        reply, data = await self.who.answer(frame, where)
        return Answer("vision_who", reply, {"camera": camera.config.name, **data})

    async def _people_at(self, m: re.Match[str], *, counting: bool) -> Answer:
        intent = "vision_count" if counting else "vision_people"
        camera, place, where = self._camera_at(m)
        if camera is None:
            return Answer(intent, f"I don't have a camera {where}.", {"declined": "no-camera", "place": place})
        frame, unavailable = self._frame(camera)
        if frame is None:
            return unavailable(intent)
        if (recent := camera.recent_people(self.fresh_s)) is not None:
            age_s, found = recent  # the camera's own detection, a moment ago: no second one
            source = "scheduled"
        else:
            if self._people is None:  # the hub's chosen detector (service.people: vision/detectors.py)
                self._people = await asyncio.to_thread(self.service.people)
            age_s, found, source = 0.0, tuple(await asyncio.to_thread(self._people.detect, frame)), "frame"
        n = len(found)
        data = {
            "camera": camera.config.name,
            "people": n,
            "how": sorted({p.how for p in found}),
            "source": source,
            "age_s": round(age_s, 3),
        }
        if counting:
            reply = f"I can see {_people(n)} {where}." if n else f"I don't see anyone {where}."
        else:
            reply = (
                f"Yes, I can see {'someone' if n == 1 else _people(n)} {where}."
                if n
                else f"No, I don't see anyone {where}."
            )
        return Answer(intent, reply, data)

    # --- codes and text

    async def _read(self) -> Answer:
        camera = self.service.in_room(self.here)
        if camera is None:
            reply = (
                f"There's no camera in the {self.here} to read from."
                if self.here
                else "I don't know which room I'm in, so I can't tell which camera to read from."
            )
            return Answer("vision_read", reply, {"declined": "no-camera", "room": self.here})
        frame, unavailable = self._frame(camera)
        if frame is None:
            return unavailable("vision_read")
        if self._qr is None:
            self._qr = QrReader()
        codes = await asyncio.to_thread(self._qr.read, frame)
        lines, missing = await self._text(frame)
        spoken = [_code(c) for c in codes]
        if lines:
            spoken.append("It says: " + " ".join(lines) + ".")
        elif missing and not codes:
            spoken.append(f"I can read QR codes, but reading text on the hub needs the OCR models: {OCR_HINT}.")
        reply = " ".join(spoken) or "I can't make out any text or code."
        return Answer(
            "vision_read", reply, {"camera": camera.config.name, "codes": codes, "lines": lines, "ocr": not missing}
        )

    async def _text(self, frame: np.ndarray) -> tuple[list[str], bool]:
        """The text lines, and whether OCR is missing on this hub."""
        if self._ocr is None and self._ocr_error is None:
            if self._ocr_factory is None:
                self._ocr_error = "no OCR configured"
            else:
                try:
                    self._ocr = await asyncio.to_thread(self._ocr_factory)
                except CompanionError as err:
                    self._ocr_error = err.message
        if self._ocr is None:
            return [], True
        return [line.text for line in await asyncio.to_thread(self._ocr.read, frame)], False

    def _frame(self, camera: Camera) -> tuple[np.ndarray | None, Callable[[str], Answer]]:
        frame = camera.latest() if camera.state == "online" else None

        def unavailable(intent: str) -> Answer:
            reply = f"The {camera.config.name} camera isn't available right now."
            return Answer(intent, reply, {"declined": "unavailable", "camera": camera.config.name})

        return frame, unavailable


def _people(n: int) -> str:
    return "one person" if n == 1 else f"{n} people"


def _code(text: str) -> str:
    if (wifi := WIFI.match(text)) is not None:
        return f"That's a Wi-Fi code for the network {wifi['ssid']}."
    if text.startswith(("http://", "https://")):
        return f"The QR code is a link to {text.split('://', 1)[1].split('/', 1)[0]}."
    return f"The QR code says: {text}."
