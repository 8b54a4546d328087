"""Vision on the hub (#20): CPU per camera for motion at 5 fps 640x480 (our Camera on a real MJPEG
stream from ffmpeg, against bare OpenCV reading the same stream in the same run), people detection
ms per frame (ours and bare HOG), the people detectors side by side (ms, fps on this machine's cores,
recall and false positives on the labelled photos), QR and OCR ms, and face detection with embeddings
(dlib, the `faces` extra) ms per frame.

    .venv/bin/python -m bench.vision [--seconds 20]     (make bench-vision)
    .venv/bin/python -m bench.vision --people-only     (the people detectors alone, about 30 s)
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, table, write_json
from bench.vision_people import median_ms, people_section
from edge_runtime.vision.camera import Camera
from edge_runtime.vision.config import CameraConfig
from models.vision_hub import QrReader, cv2_module
from tests.edge_runtime.vision_images import photo, sign
from tests.edge_runtime.vision_stream import MOTION_LEFT, MjpegServer, person_scene

FPS = 5
SCENE = MOTION_LEFT.replace("r=10", f"r={FPS}")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(run: Callable[[threading.Event, list[int]], None], seconds: float) -> dict[str, float]:
    """CPU of this process (all threads) over `seconds` of a stream, as % of one core, and the frames
    analysed a second in that window."""
    stop, count = threading.Event(), [0]
    worker = threading.Thread(target=run, args=(stop, count))
    worker.start()
    time.sleep(2.0)  # connected and warmed up: measure from here
    cpu0, wall0, n0 = _cpu(), time.monotonic(), count[0]
    time.sleep(seconds)
    cpu1, wall1, n1 = _cpu(), time.monotonic(), count[0]
    stop.set()
    worker.join(15)
    wall = wall1 - wall0
    return {"cpu_pct": round(100 * (cpu1 - cpu0) / wall, 2), "analysed_fps": round((n1 - n0) / wall, 2)}


def ours(url: str) -> Callable[[threading.Event, list[int]], None]:
    def run(stop: threading.Event, count: list[int]) -> None:
        camera = Camera(CameraConfig("bench", url, zones=[[0.0, 0.0, 0.5, 1.0]], fps=FPS), lambda e: None).start()
        while not stop.wait(0.05):
            count[0] = camera.analysed
        camera.stop()

    return run


def bare(url: str, *, motion: bool) -> Callable[[threading.Event, list[int]], None]:
    """What a script with OpenCV alone does: read every frame; MOG2 on the full-size grey frame."""

    def run(stop: threading.Event, count: list[int]) -> None:
        cv2 = cv2_module()
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
        sub = cv2.createBackgroundSubtractorMOG2(history=100, detectShadows=False)
        while not stop.is_set():
            ok, frame = cap.read()
            if not ok:
                time.sleep(0.1)
                continue
            count[0] += 1
            if motion:
                sub.apply(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        cap.release()

    return run


def person_latency(tmp: Path, cycles: int = 2) -> dict[str, Any]:
    """A real photo of a person steps into the stream every 16 s: seconds from the motion event (the
    first analysed frame after they appear, <= 0.2 s at 5 fps) to the person event; CPU over the run."""
    png = tmp / "astronaut.png"
    cv2_module().imwrite(str(png), photo("astronaut"))
    seen: list[tuple[float, str]] = []
    config = CameraConfig("door", "", hold_s=1.0, people=True, fps=FPS)
    with MjpegServer(inputs=person_scene(png, FPS)) as stream:
        config.source = stream.url
        camera = Camera(config, lambda e: seen.append((time.monotonic(), e.kind))).start()
        cpu0, wall0 = _cpu(), time.monotonic()
        while sum(k == "person_cleared" for _, k in seen) < cycles and time.monotonic() - wall0 < 16 * cycles + 20:
            time.sleep(0.1)
        cpu = 100 * (_cpu() - cpu0) / (time.monotonic() - wall0)
        camera.stop()
    waits = []
    for i, (t, kind) in enumerate(seen):
        if kind == "motion":
            person = next((u for u, k in seen[i:] if k == "person"), None)
            if person is not None and person - t < 5:
                waits.append(round(person - t, 3))
    return {"motion_to_person_s": waits, "cpu_pct": round(cpu, 2), "events": [k for _, k in seen]}


def reading() -> list[list[Any]]:
    qr = QrReader()
    card = sign("WIFI:S:Garden Net;T:WPA;P:tomato42;;", "Kitchen closes at nine")
    rows: list[list[Any]] = [["QR code, 640x480 card", median_ms(lambda: qr.read(card))]]
    try:
        from models.registry import Registry
        from models.vision import Ocr

        ocr = Ocr(Registry())
        line = np.full((200, 900, 3), 235, np.uint8)
        cv2_module().putText(line, "Back door code 4711", (30, 125), 0, 2.2, (20, 20, 20), 4)
        ocr.read(line)  # warm
        rows.append(["OCR, a 900x200 line of text", median_ms(lambda: ocr.read(line))])
    except Exception as err:  # no rapidocr on this install: say so in the table
        rows.append(["OCR, a 900x200 line of text", f"n/a ({type(err).__name__})"])
    return rows


def faces() -> list[list[Any]]:
    """dlib: HOG detection at upsample 1, then landmarks and the 128-d embedding of each face found."""
    what = ["faces: detect + embed, a 640x480 frame with one face", "faces: detect only, same frame"]
    try:
        from models.faces import FaceRecognizer
        from models.registry import Registry

        recognizer = FaceRecognizer(Registry())
    except Exception as err:  # no `faces` extra on this install: say so in the table
        return [[w, f"n/a ({type(err).__name__})"] for w in what]
    frame = np.zeros((480, 640, 3), np.uint8)  # the astronaut, kept square, in a 640x480 frame
    frame[:, 80:560] = cv2_module().resize(photo("astronaut"), (480, 480), interpolation=cv2_module().INTER_AREA)
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    assert len(recognizer.faces(frame)) == 1  # warm, and the frame really has its face
    detector = recognizer._detector
    return [
        [what[0], median_ms(lambda: recognizer.faces(frame), repeat=9)],
        [what[1], median_ms(lambda: detector.run(rgb, recognizer.upsample, recognizer.min_score), repeat=9)],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--people-only", action="store_true", help="only the people detectors (about 30 s)")
    args = parser.parse_args()
    if args.people_only:
        print(f"\nwrote {write_json('vision_people', {'machine': machine(), **people_section()})}")
        return
    motion: dict[str, dict[str, float]] = {}
    for name, make in (
        ("Camera (ours): decode + MOG2 on 320 px grey, zones", ours),
        ("bare OpenCV: decode only", lambda url: bare(url, motion=False)),
        ("bare OpenCV: decode + MOG2 on 640 px grey", lambda url: bare(url, motion=True)),
    ):
        with MjpegServer(scene=SCENE, fps=FPS) as stream:
            motion[name] = _measure(make(stream.url), args.seconds)
    rows = [[name, m["cpu_pct"], m["analysed_fps"]] for name, m in motion.items()]
    print(
        table(
            f"Motion, one camera, {FPS} fps 640x480 MJPEG over loopback HTTP ({args.seconds:g} s)",
            ["what", "% of one core", "frames a second"],
            rows,
        )
    )
    found = people_section()
    with tempfile.TemporaryDirectory() as tmp:
        person = person_latency(Path(tmp))
    print(
        f"\nA person steps in (5 fps, people on): motion event -> person event {person['motion_to_person_s']} s; "
        f"{person['cpu_pct']} % of one core over the run"
    )
    read_rows = reading() + faces()
    print()
    print(table("Codes, text and faces (median of 5; faces 9)", ["what", "ms (CPU ms)"], read_rows))
    path = write_json(
        "vision",
        {
            "machine": machine(),
            "motion": motion,
            **found,
            "person": person,
            "reading_ms": read_rows,
            "seconds": args.seconds,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
