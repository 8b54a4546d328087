"""What a captured hub<->cloud stream carried, message by message, and whether any of it is media.

Allowed (the documented hub<->cloud messages): HTTP/1.1 with JSON bodies, form-encoded token
requests, SSE streams whose `data:` lines are JSON, and the sync WebSocket's y-protocols binary
messages (sync/protocol.py). Anything else is a finding, and so is, anywhere in the raw bytes of
either direction: a RIFF/WAVE, JPEG, PNG, GIF, Ogg, FLAC or MP3 header, their base64 forms, a long
base64 blob that decodes to binary, or a run that looks like raw 16-bit PCM (see `pcm_like`)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from sync import protocol

MAGIC = {
    "WAV (RIFF/WAVE)": re.compile(rb"RIFF....WAVE", re.S),
    "WAV fmt chunk": re.compile(rb"fmt \x10\x00\x00\x00"),
    "JPEG": re.compile(rb"\xff\xd8\xff(?:\xe0..JFIF\x00|\xe1..Exif\x00|\xdb\x00[\x43\x84]|\xee\x00\x0eAdobe)", re.S),
    "PNG": re.compile(rb"\x89PNG\r\n\x1a\n"),
    "GIF": re.compile(rb"GIF8[79]a"),
    "Ogg": re.compile(rb"OggS\x00"),
    "FLAC": re.compile(rb"fLaC\x00"),
    "MP3 (ID3)": re.compile(rb"ID3[\x02-\x04]\x00"),
    "base64 WAV": re.compile(rb"UklGR[A-Za-z0-9+/]{3}"),
    "base64 JPEG": re.compile(rb"/9j/[A-Za-z0-9+/]{4}"),
    "base64 PNG": re.compile(rb"iVBORw0KGgo"),
    "base64 Ogg": re.compile(rb"T2dnUw"),
}
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{1024,}={0,2}")
WINDOW = 2048  # bytes: 1024 samples, 64 ms at 16 kHz
TEXT = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def non_text_share(data: bytes) -> float:
    return sum(1 for b in data if b not in TEXT) / max(1, len(data))


def pcm_like(data: bytes) -> int | None:
    """Offset of the first 2048-byte window that looks like raw s16 PCM, or None. Audio is smooth:
    as 16-bit samples its neighbours correlate strongly (lag-1 autocorrelation over 0.6 in speech),
    where text, varints and compressed or random bytes do not; all-zero windows are digital silence."""
    for offset in range(0, max(0, len(data) - WINDOW) + 1, WINDOW // 2):
        window = data[offset : offset + WINDOW]
        if len(window) < WINDOW:
            break
        if window.count(0) == WINDOW:
            return offset
        if non_text_share(window) < 0.25:
            continue
        for align in (0, 1):
            x = np.frombuffer(window[align : align + WINDOW - 2], dtype="<i2").astype(np.float64)
            x -= x.mean()
            energy = float(np.dot(x, x))
            if x.std() > 30 and float(np.dot(x[:-1], x[1:])) / energy > 0.6:
                return offset
    return None


def media_findings(data: bytes, where: str) -> list[str]:
    found = [f"{where}: {name} at byte {m.start()}" for name, rx in MAGIC.items() if (m := rx.search(data))]
    if (at := pcm_like(data)) is not None:
        found.append(f"{where}: raw PCM-like run at byte {at}")
    for run in BASE64_RUN.finditer(data):
        try:
            decoded = base64.b64decode(run.group().replace(b"-", b"+").replace(b"_", b"/") + b"==", validate=False)
        except (binascii.Error, ValueError):
            continue
        if non_text_share(decoded) > 0.2:
            found.append(f"{where}: a {len(run.group())}-char base64 blob of binary data at byte {run.start()}")
        found += media_findings(decoded, f"{where} (base64 at {run.start()})") if len(decoded) >= 64 else []
    return found


@dataclass
class Traffic:
    """What one direction of one TCP stream carried, as messages; `findings` are the violations."""

    kinds: list[str] = field(default_factory=list)  # e.g. "POST /v1/analytics/events json", "ws binary sync"
    findings: list[str] = field(default_factory=list)


def inspect(out: bytes, inbound: bytes, name: str) -> Traffic:
    """Both directions of one hub<->cloud TCP stream (`out` is what the hub sent)."""
    traffic = Traffic()
    for data, side in ((out, "hub->cloud"), (inbound, "cloud->hub")):
        where = f"{name} {side}"
        traffic.findings += media_findings(data, where)
        rest, deflate = _http(data, where, traffic)
        if rest:
            _websocket(rest, where, traffic, deflate=deflate)
    return traffic


def _http(data: bytes, where: str, traffic: Traffic) -> tuple[bytes, bool]:
    """Parse HTTP/1.1 messages; returns the bytes after an upgrade to WebSocket (and whether
    permessage-deflate was offered), or b"" when none."""
    i = 0
    while i < len(data):
        end = data.find(b"\r\n\r\n", i)
        if end < 0:
            traffic.findings.append(f"{where}: {len(data) - i} bytes that are not an HTTP message")
            return b"", False
        head = data[i:end].decode("latin-1").split("\r\n")
        start, headers = head[0], {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:])}
        i = end + 4
        status = start.split(" ")[1] if start.startswith("HTTP/") else ""
        upgrade = headers.get("upgrade", "").lower() == "websocket"
        if upgrade and (status == "101" or (not status and "sec-websocket-key" in headers)):
            traffic.kinds.append(f"{start.split(' ')[0]} upgrade websocket")
            deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
            return data[i:], deflate
        body, i = _body(data, i, headers, status)
        if i > len(data):  # unterminated: the capture ended, or the hub closed a stream it had read enough of
            ctype = headers.get("content-type", "")
            if ctype.startswith("text/event-stream"):  # its complete lines are checked
                complete = body[: body.rfind(b"\n") + 1]
                _check_body(complete, ctype, headers.get("content-encoding", ""), where, traffic)
            traffic.kinds.append(f"{' '.join(start.split(' ')[:2])} {ctype.split(';')[0]} (unterminated)")
            break
        kind = _check_body(body, headers.get("content-type", ""), headers.get("content-encoding", ""), where, traffic)
        traffic.kinds.append(f"{' '.join(start.split(' ')[:2])} {kind}")
    return b"", False


def _body(data: bytes, i: int, headers: dict[str, str], status: str) -> tuple[bytes, int]:
    if status.startswith("1") or status in ("204", "304"):
        return b"", i
    if "content-length" in headers:
        n = int(headers["content-length"])
        return data[i : i + n], i + n
    if "chunked" in headers.get("transfer-encoding", ""):
        body = bytearray()
        while i < len(data):
            line_end = data.find(b"\r\n", i)
            if line_end < 0:
                return bytes(body), len(data) + 1
            size = int(data[i:line_end].split(b";")[0] or b"0", 16)
            i = line_end + 2
            if size == 0:
                return bytes(body), data.find(b"\r\n", i) + 2 if data.find(b"\r\n", i) >= 0 else len(data)
            body += data[i : i + size]
            i += size + 2
        return bytes(body), len(data) + 1  # no last chunk: cut short
    return (data[i:], len(data)) if status else (b"", i)  # a response without a length runs to the close


def _check_body(body: bytes, ctype: str, encoding: str, where: str, traffic: Traffic) -> str:
    if encoding in ("gzip", "deflate"):
        body = zlib.decompress(body, 47)
        traffic.findings += media_findings(body, f"{where} ({encoding})")
    if not body:
        return "empty"
    if ctype.startswith("application/json") or ctype.endswith("+json"):
        try:
            json.loads(body)
        except ValueError:
            traffic.findings.append(f"{where}: a JSON body that does not parse: {body[:80]!r}")
        return "json"
    if ctype.startswith("text/event-stream"):
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:"):
                try:
                    json.loads(line[5:])
                except ValueError:
                    traffic.findings.append(f"{where}: an SSE data line that is not JSON: {line[:80]!r}")
        return "sse"
    if ctype.startswith(("application/x-www-form-urlencoded", "text/plain")) and non_text_share(body) == 0:
        return ctype.split(";")[0]
    traffic.findings.append(f"{where}: an undocumented body ({ctype or 'no content-type'}, {len(body)} bytes)")
    return f"undocumented {ctype}"


def _websocket(data: bytes, where: str, traffic: Traffic, *, deflate: bool) -> None:
    inflater = zlib.decompressobj(-15)
    i = 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        opcode, compressed, n, i = b0 & 0x0F, bool(b0 & 0x40), b1 & 0x7F, i + 2
        if n == 126:
            n, i = int.from_bytes(data[i : i + 2], "big"), i + 2
        elif n == 127:
            n, i = int.from_bytes(data[i : i + 8], "big"), i + 8
        key = data[i : i + 4] if b1 & 0x80 else b""
        i += len(key)
        payload = data[i : i + n]
        i += n
        if key:
            payload = bytes(b ^ key[j % 4] for j, b in enumerate(payload))
        if compressed and deflate:
            payload = inflater.decompress(payload + b"\x00\x00\xff\xff")
            traffic.findings += media_findings(payload, f"{where} (ws inflated)")
        if opcode == 1:
            try:
                json.loads(payload)
                traffic.kinds.append("ws text json")
            except ValueError:
                traffic.findings.append(f"{where}: a WebSocket text frame that is not JSON: {payload[:80]!r}")
        elif opcode == 2:
            traffic.kinds.append(f"ws binary {_yjs(payload, where, traffic)}")
        elif opcode in (8, 9, 10):
            traffic.kinds.append(f"ws control {opcode}")
        else:
            traffic.findings.append(f"{where}: a WebSocket frame with opcode {opcode} ({len(payload)} bytes)")


def _yjs(payload: bytes, where: str, traffic: Traffic) -> str:
    """A y-protocols message (sync/protocol.py): sync step 1/2, update, ACK, or awareness."""
    if protocol.read_ack(payload) is not None:
        return "ack"
    if protocol.is_awareness(payload):
        return "awareness"
    try:
        return f"sync {protocol.decode(payload).kind.name.lower()}"
    except Exception as err:  # any failure to decode is the finding
        traffic.findings.append(f"{where}: a binary frame that is not a y-protocols message ({err}): {payload[:40]!r}")
        return "unknown"
