"""People detectors side by side (#20), for bench/vision.py: ms per 640x480 frame, frames a second back
to back on this machine's cores, and recall and false positives on the labelled photos, for HOG alone,
the hub's default (HOG + Haar faces) and the optional ONNX detector where it is installed.

    .venv/bin/python -m bench.vision --people-only     (this part alone, about 30 s)
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import table
from models.vision_hub import PeopleDetector, cv2_module
from tests.edge_runtime.vision_images import LABELLED, photo

DEFAULT = "HOG + Haar faces (PeopleDetector, the hub's default)"


def median_ms(fn: Callable[[], Any], repeat: int = 5) -> str:
    """Median wall ms, and median CPU ms of the process (all threads): on a shared 2-core machine the
    wall time moves with the load, the CPU time much less."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - cpu0))
    return f"{statistics.median(wall):.1f} (CPU {statistics.median(cpu):.1f})"


def _fps(fn: Callable[[], Any], seconds: float = 3.0) -> float:
    """Frames a second one detector sustains, back to back on this machine's cores (its own threads)."""
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        n += 1
    return round(n / (time.perf_counter() - started), 2)


def _accuracy(detect: Callable[[np.ndarray], list[Any]]) -> dict[str, Any]:
    """On the labelled photos: a photo with a person counts as found if anything is detected; any
    detection on a photo without one is a false positive."""
    tp = fp = fn = tn = 0
    per_photo = {}
    for name, person in LABELLED.items():
        found = detect(photo(name))
        per_photo[name] = {"person": person, "found": [(p.how, p.score) for p in found]}
        tp, fp = tp + (person and bool(found)), fp + (not person and bool(found))
        fn, tn = fn + (person and not found), tn + (not person and not found)
    positives = sum(LABELLED.values())
    return {
        "photos": len(LABELLED),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "recall": round(tp / positives, 2) if positives else None,
        "per_photo": per_photo,
    }


def people() -> tuple[list[list[Any]], dict[str, Any], list[list[Any]], dict[str, Any]]:
    cv2 = cv2_module()
    detector = PeopleDetector()
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    frame = cv2.resize(photo("astronaut"), (640, 480))
    detector.detect(frame)  # warm
    rows = [
        [
            "HOG alone, bare OpenCV (winStride 8, scale 1.05)",
            median_ms(lambda: hog.detectMultiScale(frame, winStride=(8, 8), padding=(8, 8), scale=1.05)),
        ],
        ["HOG through PeopleDetector.bodies", median_ms(lambda: detector.bodies(frame))],
        ["PeopleDetector.detect (HOG + Haar faces)", median_ms(lambda: detector.detect(frame))],
    ]
    compared: dict[str, Any] = {}
    compare_rows: list[list[Any]] = []
    for name, detect in _detectors(detector):
        on_frame = functools.partial(detect, frame)
        on_frame()  # warm
        ms, fps, acc = median_ms(on_frame, repeat=9), _fps(on_frame), _accuracy(detect)
        compared[name] = {"ms": ms, "fps": fps, **acc}
        compare_rows.append([name, ms, fps, f"{acc['tp']}/{acc['tp'] + acc['fn']}", acc["fp"]])
    return rows, compared[DEFAULT], compare_rows, compared


def _detectors(hog: PeopleDetector) -> list[tuple[str, Callable[[np.ndarray], list[Any]]]]:
    """HOG alone, the hub's default (HOG + Haar faces), and the optional ONNX detector where installed."""
    found: list[tuple[str, Callable[[np.ndarray], list[Any]]]] = [
        ("HOG bodies alone", hog.bodies),
        (DEFAULT, hog.detect),
    ]
    try:
        from models.people_onnx import MODEL_ID, YoloPeople
        from models.registry import Registry

        found.append((f"ONNX {MODEL_ID} (YOLOv8s, 640x640 letterbox, 1 thread)", YoloPeople(Registry()).detect))
    except Exception as err:  # not installed here: `companion models install people-yolov8s-fall`
        print(f"(the ONNX people detector is not measured: {err})")
    return found


def people_section() -> dict[str, Any]:
    """The people tables, printed; their figures, for the JSON."""
    people_rows, accuracy, compare_rows, compared = people()
    print()
    print(table("People detection, 640x480 frame (median of 5)", ["what", "ms (CPU ms)"], people_rows))
    print(
        f"\nLabelled photos ({accuracy['photos']}, scikit-image): tp {accuracy['tp']}, fp {accuracy['fp']}, "
        f"fn {accuracy['fn']}, tn {accuracy['tn']}"
    )
    print()
    print(
        table(
            f"People detectors compared: 640x480 frame (median of 9), fps back to back on {os.cpu_count()} cores, "
            f"labelled photos ({accuracy['photos']})",
            ["detector", "ms (CPU ms)", "fps", "found (photos with a person)", "false positives"],
            compare_rows,
        )
    )
    threads = cv2_module().getNumThreads()
    return {"people_ms": people_rows, "accuracy": accuracy, "people_detectors": compared, "cv2_threads": threads}
