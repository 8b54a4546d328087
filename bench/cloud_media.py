"""Cloud media services benchmark (issue #7): OCR, faces, STT and TTS through the vision and voice
endpoints (HTTP, auth, header checks, decoding, the model's worker thread) against the bare engine
on the same input in the same run.

    .venv/bin/python -m bench.cloud_media [--reps 10]

Prints a Markdown table and writes bench/results/cloud_media.json.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw, ImageFont

from bench.common import machine, median, table, write_json
from models.audio import RATE, decode_wav, encode_wav
from models.registry import Registry

PHOTO = Path(__file__).parents[1] / "tests" / "cloud" / "data" / "astronaut.jpg"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SAY = "Turn on the kitchen light."


def page(width: int = 1600, lines: int = 12) -> bytes:
    """A page of printed text as PNG."""
    font = ImageFont.truetype(str(FONT), 22) if FONT.exists() else ImageFont.load_default(size=22)
    img = Image.new("RGB", (width, 80 * lines + 40), "white")
    draw = ImageDraw.Draw(img)
    for i in range(lines):
        draw.text(
            (40, 40 + 80 * i),
            f"Line {i}: the boiler needs a service every October, code {i * 7}",
            fill="black",
            font=font,
        )
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def paired(bare: Callable[[], Any], endpoint: Callable[[], Any], reps: int) -> tuple[float, float]:
    """Median ms of each, interleaved with short pauses: run back to back, one side's idle thread
    pools (OpenMP, onnxruntime) spin on the 2 cores while the other works, and skew the figure."""
    bare(), endpoint()  # warm up: first calls load and allocate
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(reps):
        for fn, out in ((bare, times[0]), (endpoint, times[1])):
            time.sleep(0.3)
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return round(1000 * median(times[0]), 1), round(1000 * median(times[1]), 1)


def run(reps: int) -> dict[str, Any]:
    from models.stt import WhisperSTT
    from models.tts import PiperTTS
    from models.vision import FaceDetector, Ocr, decode
    from tests.cloud.server import CloudServer, bearer, fresh_database, signup

    registry = Registry()
    doc, photo = page(), PHOTO.read_bytes()
    caps = {"max_pixels": 24_000_000, "max_side": 8192}
    ocr, faces = Ocr(registry), FaceDetector()
    stt, tts = WhisperSTT(registry), PiperTTS(registry)
    speech = encode_wav(tts.synthesize_all(SAY), tts.sample_rate)
    with tempfile.TemporaryDirectory() as tmp:
        server = CloudServer(
            Path(tmp),
            services=["auth", "vision", "voice"],
            database_url=fresh_database(),
            log_level="WARNING",
            rate_limit_per_minute="100000",
        ).start()
        try:
            client = httpx.Client(base_url=server.url, timeout=120)
            auth = bearer(signup(client)["access_token"])

            def post(route: str, body: bytes, kind: str) -> None:
                reply = client.post(route, content=body, headers={**auth, "Content-Type": kind})
                assert reply.status_code == 200, reply.text

            def speak() -> None:
                assert client.post("/v1/voice/tts", json={"text": SAY}, headers=auth).status_code == 200

            pairs = {
                "ocr": (lambda: ocr.read(decode(doc, **caps)), lambda: post("/v1/vision/ocr", doc, "image/png")),
                "faces": (
                    lambda: faces.detect(decode(photo, **caps)),
                    lambda: post("/v1/vision/faces", photo, "image/jpeg"),
                ),
                "stt": (lambda: stt.transcribe(decode_wav(speech)), lambda: post("/v1/voice/stt", speech, "audio/wav")),
                "tts": (lambda: encode_wav(tts.synthesize_all(SAY), tts.sample_rate), speak),
            }
            measured = {name: paired(bare, endpoint, reps) for name, (bare, endpoint) in pairs.items()}
        finally:
            server.stop()
    audio_s = len(decode_wav(speech)) / RATE
    return {
        "reps": reps,
        "ocr_image": "1600x1000 PNG, 12 lines",
        "faces_image": "256x256 JPEG photo",
        "speech_s": round(audio_s, 2),
        "bare_ms": {k: v[0] for k, v in measured.items()},
        "endpoint_ms": {k: v[1] for k, v in measured.items()},
        "overhead_ms": {k: round(v[1] - v[0], 1) for k, v in measured.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    r = run(args.reps)
    rows = [[name, r["bare_ms"][name], r["endpoint_ms"][name], r["overhead_ms"][name]] for name in r["bare_ms"]]
    print(
        table(
            f"vision and voice, median of {r['reps']} (OCR: {r['ocr_image']}; STT: {r['speech_s']} s of speech)",
            ["what", "bare engine ms", "endpoint ms", "overhead ms"],
            rows,
        )
    )
    print(f"\nwrote {write_json('cloud_media', {'machine': machine(), **r})}")


if __name__ == "__main__":
    main()
