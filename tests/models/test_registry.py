from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from models.errors import ModelCorrupt, ModelNotInstalled, UnknownModel
from models.install import plan
from models.registry import (
    ModelFile,
    Override,
    Registry,
    Status,
    load_manifest,
    load_overrides,
    sha256_file,
    write_overrides,
)

ROLES = {
    "wake",
    "wake-features",
    "vad",
    "stt",
    "stt-vosk",
    "stt-part",
    "turn",
    "people",
    "faces-landmarks",
    "faces-embed",
    "tts",
    "llm-edge",
    "llm-cloud",
    "llm-part",
    "embed",
    "embed-tokenizer",
    "ocr-det",
    "ocr-rec",
    "ocr-cls",
}


def test_manifest_entries_are_complete_and_pinned() -> None:
    entries = load_manifest()
    assert {e.role for e in entries} == ROLES
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert e.package and e.version.count(".") >= 1 and e.license and e.source.startswith("https://")
        assert e.files, e.id
        for f in e.files:
            assert len(f.sha256) == 64 and f.size > 0
        assert e.tier in ("edge", "cloud")
        if e.parts:  # assembled from split packages into the cache, then checked as a whole
            assert all(p in {x.id for x in entries} for p in e.parts) and len(e.assembled_sha256) == 64
        else:
            assert any(f.path == e.path or f.path.startswith(e.path + "/") for f in e.files), e.id


def test_every_installed_model_verifies(registry: Registry) -> None:
    for e in registry.entries():
        check = registry.check(e.id, deep=True)
        assert check.status is Status.VERIFIED, (e.id, check.problems)
        assert registry.path(e.id).exists()


def test_split_model_is_assembled_and_checked(tmp_path: Path) -> None:
    reg = Registry(cache_dir=tmp_path)
    model = reg.path("llm-gemma3-270m")
    assert model.parent == tmp_path and model.stat().st_size == reg.entry("llm-gemma3-270m").assembled_size
    assert sha256_file(model) == reg.entry("llm-gemma3-270m").assembled_sha256
    model.write_bytes(b"truncated")  # damaged in the cache: rebuilt from the verified parts
    assert (
        sha256_file(Registry(cache_dir=tmp_path).path("llm-gemma3-270m"))
        == reg.entry("llm-gemma3-270m").assembled_sha256
    )


def test_edge_tier_leaves_out_cloud_models(registry: Registry) -> None:
    edge = {e.id for e in registry.entries("edge")}
    assert "stt-whisper-tiny-en" in edge and not any(i.startswith("llm-gemma") for i in edge)


def _fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes = b"weights") -> Path:
    pkg = tmp_path / "site" / "companion_fake_models"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "model.onnx").write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("companion_fake_models", None)
    return pkg


def _entry(sha: str, size: int, import_name: str = "companion_fake_models"):  # type: ignore[no-untyped-def]
    base = load_manifest()[0]
    return replace(
        base,
        id="fake-model",
        import_name=import_name,
        package="companion-fake-models",
        path="data/model.onnx",
        files=(ModelFile("data/model.onnx", sha, size),),
    )


def test_altered_file_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _fake_package(tmp_path, monkeypatch)
    good = sha256_file(pkg / "data" / "model.onnx")
    (pkg / "data" / "model.onnx").write_bytes(b"WEIGHTS")  # same size, other bytes
    reg = Registry([_entry(good, 7)])
    assert reg.check("fake-model", deep=False).status is Status.VERIFIED  # sizes alone cannot tell
    with pytest.raises(ModelCorrupt) as exc:
        reg.path("fake-model")
    assert "fake-model" in str(exc.value) and "sha256 mismatch" in str(exc.value)
    assert "companion models install --force fake-model" in str(exc.value)


def test_missing_package_names_the_install_command() -> None:
    reg = Registry([_entry("0" * 64, 7, import_name="companion_not_installed_pkg")])
    with pytest.raises(ModelNotInstalled) as exc:
        reg.path("fake-model")
    assert exc.value.code == "MODEL_NOT_INSTALLED"
    assert "fake-model" in str(exc.value) and "companion models install" in str(exc.value)


def test_unknown_model_lists_known_ids(registry: Registry) -> None:
    with pytest.raises(UnknownModel) as exc:
        registry.path("no-such-model")
    assert "stt-whisper-tiny-en" in str(exc.value)


def test_user_file_overrides_an_entry(tmp_path: Path) -> None:
    mine = tmp_path / "my-voice.onnx"
    mine.write_bytes(b"my own voice")
    overrides_file = tmp_path / "models.toml"
    write_overrides(overrides_file, {"tts-joe-medium": Override(mine, sha256_file(mine))})
    reg = Registry(overrides=load_overrides(overrides_file))
    assert reg.path("tts-joe-medium") == mine
    assert reg.check("tts-joe-medium").status is Status.CUSTOM
    mine.write_bytes(b"tampered file")
    assert Registry(overrides=load_overrides(overrides_file)).check("tts-joe-medium").status is Status.CORRUPT
    mine.unlink()
    with pytest.raises(ModelNotInstalled):
        Registry(overrides=load_overrides(overrides_file)).path("tts-joe-medium")


def test_install_plan_skips_what_is_intact(registry: Registry, tmp_path: Path) -> None:
    steps = plan(registry)
    assert steps and all(s.action == "skip" for s in steps)
    assert {s.requirement for s in steps} == set(registry.requirements())
    assert all(s.action == "reinstall" for s in plan(registry, force=True))
    missing = Registry([_entry("0" * 64, 7, import_name="companion_not_installed_pkg")])
    assert [s.action for s in plan(missing)] == ["install"]
