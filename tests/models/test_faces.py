"""dlib face recognition (models/faces.py) on real photos, with the real models from the registry: the
astronaut (scikit-image's photo) is one person under flips, scales, grey and JPEG; the faces of scikit-
image's LFW subset are other people. Only one real photo of the astronaut exists here, so "the same
person" means the same photo, changed; a second photo of her would be a harder test."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from models.errors import ModelCorrupt
from models.faces import MATCH_DISTANCE, FaceRecognizer, FacesNotInstalled, closest
from models.registry import Override, Registry, load_manifest
from tests.edge_runtime.vision_images import lfw_face, photo

STRANGERS = (0, 3, 8, 15)


@pytest.fixture(scope="module")
def recognizer() -> FaceRecognizer:
    return FaceRecognizer(Registry())


def _one(recognizer: FaceRecognizer, image: np.ndarray) -> np.ndarray:
    faces = recognizer.faces(np.ascontiguousarray(image))
    assert len(faces) == 1, [f.box for f in faces]
    return faces[0].embedding


def test_the_astronaut_has_one_face_and_the_patch_on_her_suit_is_not_one(recognizer: FaceRecognizer) -> None:
    faces = recognizer.faces(photo("astronaut"))
    assert len(faces) == 1
    box = faces[0].box
    assert 160 <= box.x <= 190 and 60 <= box.y <= 90 and 80 <= box.width <= 100, box  # her face, not the patch
    assert faces[0].embedding.shape == (128,) and faces[0].score > 1.0
    for name in ("coffee", "chelsea", "horse", "coins", "grass", "brick"):
        assert recognizer.faces(photo(name)) == [], name


def test_one_person_stays_close_under_flips_scales_grey_and_jpeg(recognizer: FaceRecognizer) -> None:
    astronaut = photo("astronaut")
    enrolled = _one(recognizer, astronaut[:, ::-1])  # enrolled from the mirrored photo
    jpeg = cv2.imdecode(cv2.imencode(".jpg", astronaut, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)
    assert jpeg is not None
    for image in (
        astronaut,
        cv2.resize(astronaut, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
        cv2.resize(astronaut, None, fx=1.5, fy=1.5),
        cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY),
        jpeg,
        cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((256, 256), 8, 1), (512, 512)),
    ):
        match = closest(_one(recognizer, image), {"Alice": [enrolled]})
        assert match.name == "Alice" and match.distance < 0.3, match


def test_other_people_are_not_named(recognizer: FaceRecognizer) -> None:
    alice = _one(recognizer, photo("astronaut"))
    strangers = {i: _one(recognizer, lfw_face(i)) for i in STRANGERS}
    for i, embedding in strangers.items():
        match = closest(embedding, {"Alice": [alice]})
        assert match.name is None and match.distance > MATCH_DISTANCE + 0.1, (i, match)
    bob = strangers[3]  # enrolled too: each is named as themselves, and only themselves
    known = {"Alice": [alice], "Bob": [bob]}
    assert closest(_one(recognizer, lfw_face(3, side=260)), known).name == "Bob"
    assert closest(_one(recognizer, photo("astronaut")), known).name == "Alice"
    assert closest(strangers[0], known).name is None
    assert closest(alice, {}).name is None


def test_without_the_model_package_it_says_how_to_install_it(tmp_path: Path) -> None:
    entries = [e for e in load_manifest() if not e.id.startswith("faces-")]
    entries += [
        type(e)(**{**e.__dict__, "import_name": "face_recognition_models_absent"})
        for e in load_manifest()
        if e.id.startswith("faces-")
    ]
    with pytest.raises(FacesNotInstalled) as caught:
        FaceRecognizer(Registry(entries, cache_dir=tmp_path))
    assert caught.value.code == "FACES_NOT_INSTALLED"
    assert "pip install 'companion[faces]'" in caught.value.message


def test_an_altered_model_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "resnet.dat"
    bad.write_bytes(b"\0" * 1024)
    registry = Registry(overrides={"faces-dlib-resnet-v1": Override(bad, "ab" * 32)}, cache_dir=tmp_path)
    with pytest.raises(ModelCorrupt):
        FaceRecognizer(registry)
