"""Guards the public surface: a change here is a change for every caller."""

from __future__ import annotations

import edge_runtime
import models


def test_models_public_api() -> None:
    assert set(models.__all__) == {
        "Check",
        "CompanionError",
        "EngineError",
        "EngineTimeout",
        "ModelCorrupt",
        "ModelEntry",
        "ModelError",
        "ModelNotInstalled",
        "Override",
        "Registry",
        "Status",
        "SttError",
        "TtsError",
        "UnknownModel",
        "VadError",
        "WakeError",
        "load_manifest",
    }
    assert all(hasattr(models, name) for name in models.__all__)


def test_edge_runtime_public_api() -> None:
    assert set(edge_runtime.__all__) == {
        "AudioDeviceError",
        "AudioError",
        "AudioFormatError",
        "AudioIn",
        "EdgeSettings",
        "EndOfStream",
        "Frame",
        "Interrupt",
        "Mark",
        "Reply",
        "StartListening",
        "SystemFrame",
        "TTSAudio",
        "Tracer",
        "Transcript",
        "Utterance",
        "WakeDetected",
    }
    assert all(hasattr(edge_runtime, name) for name in edge_runtime.__all__)


def test_frames_have_stable_type_strings() -> None:
    from edge_runtime import frames

    types = {cls.type for cls in vars(frames).values() if isinstance(cls, type) and issubclass(cls, frames.Frame)}
    assert {"audio-in", "wake-detected", "transcript", "reply", "interrupt", "tts-audio"} <= types
    assert edge_runtime.Reply("hi").type == "reply" and edge_runtime.Transcript("hi").type == "transcript"


def test_errors_carry_stable_codes() -> None:
    err = models.ModelNotInstalled("gone", hint="run `companion models install`")
    assert err.to_dict() == {"code": "MODEL_NOT_INSTALLED", "message": "gone", "hint": "run `companion models install`"}
    assert issubclass(edge_runtime.AudioFormatError, models.CompanionError)


def test_settings_read_the_environment_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COMPANION_WAKE_WORD", "alexa")
    monkeypatch.setenv("COMPANION_TRAILING_SILENCE_MS", "600")
    s = edge_runtime.EdgeSettings()
    assert s.wake_word == "alexa" and s.trailing_silence_ms == 600
    monkeypatch.setenv("COMPANION_WAKE_THRESHOLD", "2")
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        edge_runtime.EdgeSettings()


def test_device_drivers_public_api() -> None:
    import device_drivers

    assert set(device_drivers.__all__) == {
        "Attribute",
        "BrokerAddress",
        "Codec",
        "Convention",
        "Device",
        "Discovery",
        "DriverError",
        "HomeAssistant",
        "Homie",
        "InvalidCommand",
        "InvalidPayload",
        "Kind",
        "STATELESS_KINDS",
        "StateUpdate",
        "Zigbee2MQTT",
        "implied",
    }
    assert all(hasattr(device_drivers, name) for name in device_drivers.__all__)


def test_device_layer_public_api() -> None:
    from edge_runtime import devices

    assert set(devices.__all__) == {
        "BrokerUnavailable",
        "DeviceError",
        "DeviceEvent",
        "DeviceHub",
        "DeviceRecord",
        "DeviceRegistry",
        "DeviceUnavailable",
        "DeviceUnconfirmed",
        "DeviceUnknown",
        "InvalidDeviceCommand",
        "device_hub_from",
        "mqtt_credentials",
    }
    assert issubclass(devices.DeviceError, models.CompanionError)
