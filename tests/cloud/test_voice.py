"""voice on a real cloud process: Piper speaks, Whisper hears it back (the hub's engines from the
registry); any WAV layout is resampled; bad, truncated and over-long audio get stable codes."""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
import soxr

from tests.cloud.server import CloudServer, bearer, fresh_database, signup

COMMAND = "turn on the kitchen light"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(
        tmp_path_factory.mktemp("voice"),
        services=["auth", "voice"],
        database_url=fresh_database(),
        voice_max_audio_s="10",
        voice_max_bytes="2000000",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def token(cloud: CloudServer) -> str:
    return signup(httpx.Client(base_url=cloud.url))["access_token"]


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def wav(audio: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    sf.write(out, audio, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def stt(cloud: CloudServer, token: str, body: bytes, kind: str = "audio/wav") -> httpx.Response:
    return httpx.post(
        f"{cloud.url}/v1/voice/stt", content=body, headers={**bearer(token), "Content-Type": kind}, timeout=120
    )


def speak(cloud: CloudServer, token: str, text: str) -> bytes:
    reply = httpx.post(f"{cloud.url}/v1/voice/tts", json={"text": text}, headers=bearer(token), timeout=120)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "audio/wav" and reply.headers["x-voice"] == "tts-joe-medium"
    return reply.content


def test_speech_round_trip_through_tts_and_stt(cloud: CloudServer, token: str) -> None:
    spoken = speak(cloud, token, "Turn on the kitchen light.")
    audio, rate = sf.read(io.BytesIO(spoken), dtype="float32")
    assert rate == 22050 and audio.ndim == 1 and 0.8 < len(audio) / rate < 5.0
    assert float(np.abs(audio).max()) > 0.05  # speech, not silence
    heard = stt(cloud, token, spoken)
    assert heard.status_code == 200, heard.text
    body = heard.json()
    assert words(body["text"]) == COMMAND, body
    assert body["language"] == "en" and body["sample_rate"] == 22050 and body["channels"] == 1
    assert body["duration_s"] == pytest.approx(len(audio) / rate, abs=0.01) and body["compute_ms"] > 0


def test_any_rate_and_channel_count_is_resampled(cloud: CloudServer, token: str) -> None:
    spoken = speak(cloud, token, "Turn on the kitchen light.")
    audio, rate = sf.read(io.BytesIO(spoken), dtype="float32")
    stereo = np.stack([soxr.resample(audio, rate, 44100)] * 2, axis=1)
    heard = stt(cloud, token, wav(stereo, 44100), kind="audio/x-wav")
    assert heard.status_code == 200, heard.text
    assert heard.json()["channels"] == 2 and heard.json()["sample_rate"] == 44100
    # The same speech at its own rate: the voice has noise, so Whisper tiny may mishear a word of it
    # ("kitchen white"), but resampling must not change what is heard.
    native = stt(cloud, token, spoken)
    assert words(heard.json()["text"]) == words(native.json()["text"]), (heard.text, native.text)
    assert words(native.json()["text"]).startswith("turn on the kitchen"), native.text


def test_concurrent_requests_share_one_model_safely(cloud: CloudServer, token: str) -> None:
    spoken = speak(cloud, token, "Turn on the kitchen light.")
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: stt(cloud, token, spoken), range(4)))
    assert [r.status_code for r in replies] == [200] * 4
    assert {words(r.json()["text"]) for r in replies} == {COMMAND}


def test_bad_audio_gets_a_stable_code(cloud: CloudServer, token: str) -> None:
    good = wav(np.zeros(16000, dtype=np.float32), 16000)
    truncated = good[: len(good) // 2]  # the header still promises a second of audio
    no_data = good[:36]  # RIFF and fmt, no data chunk
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    riff_lies = b"RIFF" + struct.pack("<I", 1000) + b"WAVEfmt " + struct.pack("<I", 16) + b"\xff" * 16
    for body in (b"not audio at all", truncated, no_data, png, riff_lies, b""):
        reply = stt(cloud, token, body)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "VOICE_BAD_AUDIO", (body[:40], reply.text)
    for kind in ("application/json", "audio/mpeg", ""):
        wrong_type = stt(cloud, token, good, kind=kind)
        assert wrong_type.status_code == 415 and wrong_type.json()["error"]["code"] == "VOICE_UNSUPPORTED_TYPE"
    unlabelled = stt(cloud, token, good, kind="application/octet-stream")  # taken, as long as it is WAV
    assert unlabelled.status_code == 200 and unlabelled.json()["duration_s"] == 1.0
    assert stt(cloud, token, b"not audio", kind="application/octet-stream").status_code == 422
    silent = stt(cloud, token, good)
    assert silent.status_code == 200 and silent.json()["duration_s"] == 1.0


def test_limits_on_length_and_size(cloud: CloudServer, token: str) -> None:
    eleven_s = wav(np.zeros(11 * 16000, dtype=np.float32), 16000)  # 352 KB: under the byte limit
    too_long = stt(cloud, token, eleven_s)
    assert too_long.status_code == 413 and too_long.json()["error"]["code"] == "VOICE_AUDIO_TOO_LONG", too_long.text
    # 1.6 MB is over the platform's 1 MB body limit but under this route's own limit (2 MB)...
    nine_s = wav(np.zeros((9 * 44100, 2), dtype=np.float32), 44100)
    assert len(nine_s) > 1_000_000 and stt(cloud, token, nine_s).status_code == 200
    # ...and past it the body is refused before anything is read into a model.
    huge = stt(cloud, token, b"RIFF" + b"\x00" * 2_100_000)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_tts_refuses_unknown_voices_and_bad_text(cloud: CloudServer, token: str) -> None:
    def tts(body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{cloud.url}/v1/voice/tts", json=body, headers=bearer(token), timeout=60)

    unknown = tts({"text": "hello", "voice": "tts-nobody"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "VOICE_UNKNOWN_VOICE"
    assert "tts-joe-medium" in unknown.json()["error"]["hint"]
    assert tts({"text": "hello", "voice": "tts-joe-medium"}).status_code == 200
    nothing = tts({"text": " ... !? "})
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "VOICE_NOTHING_TO_SAY"
    for body in ({"text": "x" * 1001}, {"text": ""}, {}):
        assert tts(body).status_code == 422


def test_every_route_needs_a_token(cloud: CloudServer) -> None:
    silent = wav(np.zeros(1600, dtype=np.float32), 16000)
    for reply in (
        httpx.post(f"{cloud.url}/v1/voice/stt", content=silent, headers={"Content-Type": "audio/wav"}),
        httpx.post(f"{cloud.url}/v1/voice/tts", json={"text": "hello"}),
    ):
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "TOKEN_MISSING"
