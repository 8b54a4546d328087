"""The harness itself: it fails (never skips) where namespaces cannot be made, a cut link is a black
hole, nothing is left behind, and the leak detectors see audio and images (and not JSON or Yjs)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.netns.lab import HubNamespace, ip
from tests.netns.payloads import inspect, media_findings, pcm_like
from tests.speech import Voices, join, silence, write_wav

ROOT = Path(__file__).resolve().parents[2]


def test_without_cap_net_admin_the_harness_fails_saying_how_to_run() -> None:
    """Root, but with CAP_NET_ADMIN and CAP_SYS_ADMIN dropped (as in an unprivileged container)."""
    code = "from tests.netns.lab import HubNamespace\nwith HubNamespace():\n    pass\n"
    drop = ["setpriv", "--inh-caps=-net_admin,-sys_admin", "--bounding-set=-net_admin,-sys_admin", "--"]
    done = subprocess.run(
        [*drop, sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0, done.stdout
    assert "NetnsUnavailable: cannot create a network namespace" in done.stderr, done.stderr[-2000:]
    assert "need root (CAP_NET_ADMIN and CAP_SYS_ADMIN)" in done.stderr and "--cap-add NET_ADMIN" in done.stderr


PROBE = """
import socket, sys, time
started = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5).close()
    print("connected")
except TimeoutError:
    print("timeout")
except OSError as err:
    print(type(err).__name__)
"""


def test_a_cut_link_is_a_black_hole_and_nothing_is_left_behind() -> None:
    listener = socket.socket()
    with pytest.raises(RuntimeError, match="the test failed here"), HubNamespace() as ns:
        listener.bind((ns.wan_host, 0))
        listener.listen(8)
        probe = [*ns.exec_prefix, sys.executable, "-c", PROBE, ns.wan_host, str(listener.getsockname()[1])]

        def reach() -> str:
            return subprocess.run(probe, capture_output=True, text=True, timeout=30, check=True).stdout.strip()

        assert reach() == "connected"
        ns.cut()
        started = time.monotonic()
        assert reach() == "timeout"  # no error comes back: what the hub sends is lost
        assert time.monotonic() - started >= 1.5
        lan = [*ns.exec_prefix, sys.executable, "-c", PROBE, ns.lan_host, "9"]  # the LAN side still answers
        assert subprocess.run(lan, capture_output=True, text=True, timeout=30, check=True).stdout.strip() == (
            "ConnectionRefusedError"
        )
        ns.restore()
        assert reach() == "connected"
        name, veths = ns.name, (ns.lan_veth, ns.wan_veth)
        assert ns.exists() and all(ip("link", "show", v, check=False).returncode == 0 for v in veths)
        raise RuntimeError("the test failed here")
    listener.close()
    assert name not in ip("netns", "list").stdout
    assert all(ip("link", "show", v, check=False).returncode != 0 for v in veths)


def test_the_detectors_find_speech_wav_and_images_and_pass_json_and_yjs(voices: Voices, tmp_path: Path) -> None:
    import cv2
    import pycrdt

    speech = join(silence(0.2), voices.piper("Turn on the kitchen light."))
    pcm = np.clip(speech * 32767, -32768, 32767).astype("<i2").tobytes()
    assert pcm_like(b'{"a": 1}' * 40 + pcm[8000:40000]) is not None
    assert pcm_like(pcm[8001:40001]) is not None  # odd offsets too
    assert pcm_like(bytes(4096)) is not None  # digital silence
    wav = tmp_path / "said.wav"
    write_wav(wav, speech)
    assert any("WAV (RIFF/WAVE)" in f for f in media_findings(b"xx" + wav.read_bytes()[:600], "t"))
    image = np.full((32, 32, 3), 200, np.uint8)
    for ext, name in ((".jpg", "JPEG"), (".png", "PNG")):
        encoded = cv2.imencode(ext, image)[1].tobytes()
        assert any(name in f for f in media_findings(b"--" + encoded, "t")), name
    smuggled = json.dumps({"text": "hi", "attachment": base64.b64encode(wav.read_bytes()[:6000]).decode()})
    assert any("base64 WAV" in f for f in media_findings(smuggled.encode(), "t"))
    raw = json.dumps({"x": base64.b64encode(pcm[8000:20000]).decode()}).encode()  # headerless PCM, in base64
    assert any("base64 blob of binary" in f for f in media_findings(raw, "t"))
    # What may cross: JSON, and a y-protocols update of a document full of text.
    doc: pycrdt.Doc[pycrdt.Text] = pycrdt.Doc()
    doc["memory"] = pycrdt.Text("the wifi password is on the fridge; " * 200)
    update = doc.get_update()
    from sync import protocol

    frame = protocol.update(update)
    assert media_findings(frame, "t") == [] and media_findings(json.dumps({"t": "ok " * 900}).encode(), "t") == []
    request = b"POST /v1/x HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n" + b'{"a": 1}\n'
    ok = inspect(request, b"HTTP/1.1 204 No Content\r\n\r\n", "s")
    assert (ok.kinds, ok.findings) == (["POST /v1/x json", "HTTP/1.1 204 empty"], [])
    blob = b"POST /v1/up HTTP/1.1\r\ncontent-type: application/octet-stream\r\ncontent-length: 4\r\n\r\nabcd"
    undocumented = "s hub->cloud: an undocumented body (application/octet-stream, 4 bytes)"
    assert inspect(blob, b"", "s").findings == [undocumented]
