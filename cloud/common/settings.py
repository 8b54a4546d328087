"""Cloud settings, read once (env prefix COMPANION_) and handed to the app factory."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from common import paths
from common.tomlfile import create_private


def _data_dir() -> Path:
    return paths.data_dir() / "cloud"


class CloudSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPANION_CLOUD_", extra="ignore")

    services: list[str] = Field(default_factory=list)  # empty: every service, mounted in one app
    host: str = "127.0.0.1"
    port: int = 8400
    data_dir: Path = Field(default_factory=_data_dir)
    # Empty: the embedded defaults (SQLite in data_dir, in-process cache and limiter).
    database_url: str | None = None  # postgresql+asyncpg://user@127.0.0.1/companion
    redis_url: str | None = None  # redis://127.0.0.1:6379/0
    # Signs access tokens. Unset: a random one is made once and kept in data_dir (single node only).
    jwt_secret: SecretStr | None = None
    access_token_ttl_s: int = Field(900, ge=30)
    refresh_token_ttl_s: int = Field(30 * 24 * 3600, ge=60)
    auth_cache_ttl_s: float = Field(10.0, gt=0, le=300)  # how long "this account and device stand" is cached
    device_code_ttl_s: int = Field(600, ge=1)
    device_code_interval_s: int = Field(5, ge=1)
    # Where a user approves a hub (RFC 8628). Unset: /link on the address the hub reached the cloud by;
    # set it when the cloud sits behind a proxy with a public name (https://cloud.example.com/link).
    verification_uri: str | None = None
    # Prometheus scrapes /metrics with this as a bearer token. Unset: /metrics answers loopback only.
    metrics_token: SecretStr | None = None
    rate_limit_per_minute: int = Field(600, ge=1)
    rate_limit_window_s: float = Field(60.0, gt=0)
    sync_compact_every: int = Field(64, ge=2, le=100_000)  # updates per document before they fold into a snapshot
    max_body_bytes: int = Field(1_000_000, ge=1024)
    rag_chroma_url: str | None = None  # a chromadb server (http://host:8000); unset: persistent in data_dir
    rag_answers: bool = True  # the rag service loads the LLM gateway to answer from the notes
    # Notifications: webhooks are retried with exponential backoff, then dead-lettered.
    notify_webhook_attempts: int = Field(6, ge=1, le=20)
    notify_backoff_s: float = Field(2.0, gt=0)  # first retry; doubles each time
    notify_backoff_max_s: float = Field(600.0, gt=0)
    notify_webhook_timeout_s: float = Field(5.0, gt=0)
    notify_poll_s: float = Field(1.0, gt=0)
    # A claimed delivery is leased for the webhook timeout plus this: a process killed mid-post
    # leaves it to another (or to itself, restarted) once the lease runs out.
    notify_lease_margin_s: float = Field(30.0, gt=0)
    notify_private_webhooks: bool = False  # allow loopback and private addresses (a LAN's own receiver)
    # Local models behind HTTP (vision, voice): requests waiting for one model before more get 503.
    model_max_pending: int = Field(16, ge=1, le=1000)
    # vision: image sizes are checked from the header before any pixel is decoded (image bombs).
    vision_max_bytes: int = Field(8_000_000, ge=1024)  # this route's body limit, instead of max_body_bytes
    vision_max_pixels: int = Field(24_000_000, ge=1)  # 6000x4000
    vision_max_side: int = Field(8192, ge=16)
    vision_threads: int = Field(2, ge=1, le=64)
    # voice: the hub's engines (model ids from the registry) for thin clients.
    voice_stt_model: str = "stt-whisper-tiny-en"
    voice_stt_language: str = "en"
    voice_tts_voices: list[str] = Field(default_factory=lambda: ["tts-joe-medium"], min_length=1)  # first: default
    voice_threads: int = Field(2, ge=1, le=64)
    voice_max_bytes: int = Field(6_000_000, ge=1024)  # this route's body limit (30 s of 48 kHz stereo is 5.8 MB)
    voice_max_audio_s: float = Field(30.0, gt=0, le=3600)
    cors_origins: list[str] = Field(default_factory=list)
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    log_level: str = "INFO"
    api_docs: bool = True  # /docs and /openapi.json (no data, but turn them off if you like)

    # The LLM gateway: the built-in llama.cpp model, and OpenAI-compatible servers by URL.
    llm_builtin: bool = True
    llm_model_id: str = "llm-gemma3-270m"
    llm_threads: int = Field(2, ge=1)
    llm_context: int = Field(2048, ge=256)
    llm_upstreams: list[str] = Field(default_factory=list)  # e.g. ["http://vllm:8000/v1"]
    llm_upstream_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(60.0, gt=0)
    llm_first_token_timeout_s: float = Field(15.0, gt=0)
    llm_retries: int = Field(1, ge=0, le=5)
    llm_max_tokens: int = Field(1024, ge=1, le=8192)  # a cap on any one completion, whatever is asked
    escalation_temperature: float = Field(0.4, ge=0, le=2)  # sampling for a hub's escalated turns (0: greedy)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'cloud.sqlite3'}"

    def signing_key(self) -> str:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "jwt.key"
        if not path.exists():
            create_private(path, secrets.token_urlsafe(48))
        return path.read_text().strip()
