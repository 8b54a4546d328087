"""What peers say to each other on the home's MQTT topics, sealed with the home key.

Every message is AES-GCM sealed with a key derived from the home key, its topic as associated data:
a stranger on the same broker can neither read it, nor forge one, nor move one to another topic.
A message also carries its sender (checked against the topic) and when it was sent (a replayed
message older than `MAX_AGE_S` is refused; statuses are retained, so they are exempt)."""

from __future__ import annotations

import base64
import json
import os
import time
from enum import StrEnum
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from common.errors import CompanionError
from edge_runtime.peers.home import Home

ROOT = "companion"
MAX_AGE_S = 30.0
NONCE = 12


class PeerError(CompanionError):
    code = "PEER_UNAUTHENTICATED"


class Kind(StrEnum):
    STATUS = "status"  # retained: online (with room and name) or the last will's offline
    CLAIM = "claim"  # "I heard the wake word this well"
    TAKEN = "taken"  # "I am answering the turn of this claim"
    ANNOUNCE = "announce"  # speak this, in these rooms (or everywhere)
    STOP = "stop"  # "stop" was said here: silence a ringing timer


class _Base(BaseModel):
    kind: Kind
    hub: str
    t: float = Field(default_factory=time.time)


class Status(_Base):
    kind: Literal[Kind.STATUS] = Kind.STATUS
    online: bool
    room: str | None = None
    name: str | None = None
    api: str | None = None  # where its LAN API answers, for the app


class Claim(_Base):
    kind: Literal[Kind.CLAIM] = Kind.CLAIM
    wake_id: str
    score: float
    level_db: float

    def rank(self) -> tuple[int, float, str]:
        """Loudest first (in whole dB, so noise in the level does not flip a 3 dB win), then the
        wake model's score, then the hub id: every hub orders the same claims the same way."""
        return (round(self.level_db), round(self.score, 3), self.hub)


class Taken(_Base):
    kind: Literal[Kind.TAKEN] = Kind.TAKEN
    wake_id: str


class Announce(_Base):
    kind: Literal[Kind.ANNOUNCE] = Kind.ANNOUNCE
    text: str = Field(min_length=1, max_length=500)
    rooms: list[str] | None = None  # None: every hub of the home
    room: str | None = None  # where it was said


class Stop(_Base):
    kind: Literal[Kind.STOP] = Kind.STOP


PeerMessage = Annotated[Status | Claim | Taken | Announce | Stop, Field(discriminator="kind")]
_messages: TypeAdapter[PeerMessage] = TypeAdapter(PeerMessage)


def topic(home_id: str, hub_id: str, kind: Kind) -> str:
    """Under the hub's own prefix (`companion/<hub id>/`, as its Home Assistant presence): one ACL line
    ("a hub publishes under companion/<its id>/#") covers all it sends."""
    return f"{ROOT}/{hub_id}/home/{home_id}/{kind.value}"


def home_filter(home_id: str) -> str:
    return f"{ROOT}/+/home/{home_id}/+"


def sealed(home: Home, message: _Base) -> tuple[str, bytes]:
    kind = Kind(message.kind)
    where = topic(home.home_id, message.hub, kind)
    nonce = os.urandom(NONCE)
    body = message.model_dump_json().encode()
    # Base64, so a client reading `companion/#` as UTF-8 text (as Home Assistant's tools do) gets text.
    return where, base64.b64encode(nonce + AESGCM(home.seal_key).encrypt(nonce, body, where.encode()))


def unsealed(home: Home, where: str, payload: bytes, *, now: float | None = None) -> PeerMessage:
    """The message, or PeerError: not of this home, altered, from the wrong topic, or too old."""
    parts = where.split("/")
    if len(parts) != 5 or (parts[0], parts[2], parts[3]) != (ROOT, "home", home.home_id):
        raise PeerError(f"not a topic of this home: {where}")
    try:
        payload = base64.b64decode(payload, validate=True)
    except ValueError as err:
        raise PeerError("a peer message that is not base64", code="PEER_MALFORMED") from err
    if len(payload) <= NONCE:
        raise PeerError("a peer message too short to be sealed", code="PEER_MALFORMED")
    try:
        body = AESGCM(home.seal_key).decrypt(payload[:NONCE], payload[NONCE:], where.encode())
    except InvalidTag as err:
        raise PeerError("a message not sealed with this home's key") from err
    try:
        message = _messages.validate_python(json.loads(body))
    except (ValueError, ValidationError) as err:
        raise PeerError(f"a sealed peer message that is not one: {err}", code="PEER_MALFORMED") from err
    if message.hub != parts[1] or message.kind.value != parts[4]:
        raise PeerError("a peer message on another hub's topic")
    age = (time.time() if now is None else now) - message.t
    if message.kind is not Kind.STATUS and not -MAX_AGE_S < age < MAX_AGE_S:
        raise PeerError(f"a peer message {age:.0f} s old (replayed, or the clocks differ)", code="PEER_STALE")
    return message


def dump(message: Any) -> dict[str, Any]:
    return dict(message.model_dump(mode="json"))
