"""Real photos and honest generated frames for the hub's vision tests and bench/vision.py.

The photos are scikit-image's own (shipped in its wheel, freely licensed: see skimage/data/README),
so nothing is fetched at run time. The labels are ours, by looking: whether a person is in view.
"""

from __future__ import annotations

import io

import numpy as np

INSTALL = "scikit-image is not installed: pip install -e '.[dev]' (its wheel ships the test photos)"
# name -> a person in view? ("camera" is the cameraman, seen side-on at a tripod: a known HOG miss)
LABELLED = {
    "astronaut": True,
    "camera": True,
    "coffee": False,
    "chelsea": False,
    "rocket": False,
    "horse": False,
    "coins": False,
    "grass": False,
    "brick": False,
    "logo": False,
}


def photo(name: str) -> np.ndarray:
    """A BGR uint8 frame of one of scikit-image's photos."""
    try:
        from skimage import data
    except ImportError as err:
        raise RuntimeError(INSTALL) from err
    image = np.asarray(getattr(data, name)())
    if image.dtype != np.uint8:
        image = (image * 255).astype(np.uint8) if image.max() <= 1 else image.astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[:, :, :3][:, :, ::-1])


def sign(qr_text: str, line: str, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A card held up to a camera: a QR code (segno) and a line of text (Pillow's font), BGR."""
    import segno
    from PIL import Image, ImageDraw, ImageFont

    frame = Image.new("RGB", size, (200, 200, 190))
    buf = io.BytesIO()
    segno.make(qr_text, error="m").save(buf, kind="png", scale=6, border=4)
    buf.seek(0)
    frame.paste(Image.open(buf).convert("RGB"), (30, 40))
    ImageDraw.Draw(frame).text((30, size[1] - 100), line, fill=(20, 20, 20), font=ImageFont.load_default(size=40))
    return np.ascontiguousarray(np.asarray(frame)[:, :, ::-1])


def lfw_face(index: int, side: int = 200) -> np.ndarray:
    """One of the 100 faces of scikit-image's LFW subset (Labeled Faces in the Wild: 25x25 grey crops
    of news photos, people other than the astronaut), scaled up to `side` pixels on a grey 640x480 frame,
    as a face close to a door camera. BGR."""
    import cv2

    try:
        from skimage import data
    except ImportError as err:
        raise RuntimeError(INSTALL) from err
    grey = (data.lfw_subset()[index] * 255).astype(np.uint8)
    face = cv2.resize(grey, (side, side), interpolation=cv2.INTER_CUBIC)
    frame = np.full((480, 640), 180, np.uint8)
    top, left = (480 - side) // 2, (640 - side) // 2
    frame[top : top + side, left : left + side] = face
    return np.ascontiguousarray(np.stack([frame] * 3, axis=-1))
