from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from edge_runtime.settings import EdgeSettings
from models.registry import Registry
from tests.speech import Voices

# Every `hub up` a test starts serves its LAN API on a free port, never the fixed default, and no
# test advertises over mDNS unless it means to.
os.environ.setdefault("COMPANION_API_PORT", "0")
os.environ.setdefault("COMPANION_API_MDNS", "false")


@pytest.fixture
def settings(tmp_path: Path) -> EdgeSettings:
    return EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


@pytest.fixture(scope="session")
def engines(registry: Registry):  # type: ignore[no-untyped-def]
    """Every real model, loaded once for the session (about 2 s)."""
    from edge_runtime.engines import Engines

    settings = EdgeSettings(_env_file=None)  # type: ignore[call-arg]
    with contextlib.redirect_stdout(io.StringIO()):
        loaded = Engines.load(settings, registry)
        loaded.warm_up()
    return loaded


@pytest.fixture(scope="session")
def voices(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Voices:
    """Piper with its noise off, so test speech is the same on every run."""
    from models.tts import PiperTTS

    return Voices(PiperTTS(registry, deterministic=True), tmp_path_factory.mktemp("speech"))


@pytest.fixture
def mosquitto(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real broker of our own per test (it starts in ~50 ms): no retained state leaks between tests."""
    from device_drivers.mosquitto import Mosquitto

    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def llm(registry: Registry):  # type: ignore[no-untyped-def]
    """The hub's small LLM (SmolLM2-135M from the registry), loaded once and warmed up."""
    from models.llm import LlamaLLM

    model = LlamaLLM(registry)
    model.warm_up()
    return model
