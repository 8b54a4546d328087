"""The wire: y-protocols sync messages (what y-websocket and the Yjs app speak), Yjs v1 updates.

    SyncStep1(state vector) -> SyncStep2(the update the sender lacks) ; Update(update)

A replica that receives SyncStep1 answers SyncStep2. Our one addition: after the server has
stored an update durably it answers ACK(sha256 of the update), so a client knows which of its
outbox rows are safe; a delete-only update changes no state vector, so the vector cannot say.
A Yjs peer that does not know ACK ignores it (message type 100).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pycrdt

from sync.errors import SyncProtocolError

EMPTY_UPDATE = b"\x00\x00"
ACK = 100
AWARENESS, QUERY_AWARENESS = 1, 3  # y-websocket sends these; presence is not stored, so they are ignored


class Kind(IntEnum):
    STEP1 = 0  # payload: a state vector
    STEP2 = 1  # payload: an update
    UPDATE = 2  # payload: an update


@dataclass(frozen=True)
class Message:
    kind: Kind
    payload: bytes

    def encode(self) -> bytes:
        return bytes([pycrdt.YMessageType.SYNC, self.kind]) + pycrdt.write_message(self.payload)


def step1(state_vector: bytes) -> bytes:
    return Message(Kind.STEP1, state_vector).encode()


def step2(update: bytes) -> bytes:
    return Message(Kind.STEP2, update).encode()


def update(update_bytes: bytes) -> bytes:
    return Message(Kind.UPDATE, update_bytes).encode()


def ack(update_bytes: bytes) -> bytes:
    return bytes([ACK]) + pycrdt.write_message(digest(update_bytes))


def digest(update_bytes: bytes) -> bytes:
    return hashlib.sha256(update_bytes).digest()


def read_ack(data: bytes) -> bytes | None:
    """The digest an ACK carries, or None if `data` is not an ACK."""
    if not data or data[0] != ACK:
        return None
    payload = pycrdt.Decoder(data[1:]).read_message()
    return payload if payload and len(payload) == 32 else None


def is_awareness(data: bytes) -> bool:
    return bool(data) and data[0] in (AWARENESS, QUERY_AWARENESS)


def decode(data: bytes) -> Message:
    """One message. Awareness and unknown kinds are refused with a code, never half-applied."""
    if len(data) < 3 or data[0] != pycrdt.YMessageType.SYNC or data[1] not in (0, 1, 2):
        raise SyncProtocolError(f"not a sync message ({len(data)} bytes, starts {data[:2].hex()})")
    try:
        payload = pycrdt.Decoder(data[2:]).read_message()
    except (RuntimeError, IndexError) as err:
        raise SyncProtocolError("a sync message with a truncated payload") from err
    if payload is None:
        raise SyncProtocolError("a sync message without a payload")
    return Message(Kind(data[1]), payload)


def split(data: bytes) -> list[bytes]:
    """Messages sent back to back (an HTTP batch body), each still encoded."""
    out, i = [], 0
    while i < len(data):
        if data[i] == QUERY_AWARENESS:
            out.append(data[i : i + 1])
            i += 1
            continue
        header = 2 if data[i] == pycrdt.YMessageType.SYNC else 1 if data[i] in (ACK, AWARENESS) else 0
        if header == 0 or len(data) - i < header + 1:
            raise SyncProtocolError(f"not a sync message at byte {i}")
        length, used = _read_var_uint(data, i + header)
        end = i + header + used + length
        if end > len(data):
            raise SyncProtocolError("a sync message with a truncated payload")
        out.append(data[i:end])
        i = end
    return out


def _read_var_uint(data: bytes, i: int) -> tuple[int, int]:
    value, shift, used = 0, 0, 0
    while True:
        if i + used >= len(data) or used > 9:
            raise SyncProtocolError("a malformed length")
        byte = data[i + used]
        value |= (byte & 0x7F) << shift
        used += 1
        if byte < 0x80:
            return value, used
        shift += 7


def state_vector(sv: bytes) -> dict[int, int]:
    """A Yjs state vector as {client id: next clock}."""
    count, i = _read_var_uint(sv, 0)
    out = {}
    for _ in range(count):
        client, used = _read_var_uint(sv, i)
        i += used
        clock, used = _read_var_uint(sv, i)
        i += used
        out[client] = clock
    return out


def squash(*updates: bytes) -> bytes:
    """Updates as one, through a document: overwritten values leave only garbage-collected ranges
    (60 overwrites of one field: 791 bytes merged, 38 bytes squashed). For compaction."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    for u in updates:
        if u and u != EMPTY_UPDATE:
            doc.apply_update(u)
    return doc.get_update()


def check_update(update_bytes: bytes) -> None:
    """Refuse bytes that are not a Yjs v1 update before they reach a store."""
    try:
        pycrdt.get_state(update_bytes)
    except Exception as err:  # pycrdt raises plain ValueErrors/panics for garbage
        raise SyncProtocolError(f"not a Yjs update ({len(update_bytes)} bytes)") from err
