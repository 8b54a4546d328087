"""Every table of the cloud, in one place for Alembic; each service's models import from here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def _ts(**kw: Any) -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False), **kw)


def _ts_null() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(index=True, unique=True, max_length=254)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _ts()


class Profile(SQLModel, table=True):
    __tablename__ = "profiles"
    user_id: str = Field(primary_key=True, foreign_key="users.id", max_length=32)
    name: str = Field(default="", max_length=100)
    language: str = Field(default="en", max_length=16)
    voice: str = Field(default="tts-joe-medium", max_length=64)
    wake_word: str = Field(default="hey_jarvis", max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    preferences: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts()


class DeviceIdentity(SQLModel, table=True):
    """A hub or an app acting for a user, with its own scopes and credentials."""

    __tablename__ = "device_identities"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    kind: str = Field(max_length=8)  # hub | app
    name: str = Field(max_length=100)
    client_id: str = Field(default="", max_length=128)  # the hub's own id
    scopes: str = Field(default="", max_length=500)  # space-separated
    created_at: datetime = _ts()
    revoked_at: datetime | None = _ts_null()


class RefreshToken(SQLModel, table=True):
    """Single-use: each refresh rotates it. Reusing a spent one revokes its whole family."""

    __tablename__ = "refresh_tokens"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    family: str = Field(index=True, max_length=32)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    device_id: str | None = Field(default=None, foreign_key="device_identities.id", max_length=32)
    scopes: str = Field(default="", max_length=500)
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts_null()
    revoked_at: datetime | None = _ts_null()


class DeviceAuthorization(SQLModel, table=True):
    """RFC 8628: a hub without a keyboard asks; the user approves by code in a browser or app."""

    __tablename__ = "device_authorizations"
    device_code_hash: str = Field(primary_key=True, max_length=64)
    user_code: str = Field(index=True, unique=True, max_length=16)
    client_id: str = Field(max_length=128)
    client_name: str = Field(default="", max_length=100)
    scope: str = Field(default="", max_length=500)
    status: str = Field(default="pending", max_length=16)  # pending | approved | denied | consumed
    user_id: str | None = Field(default=None, foreign_key="users.id", max_length=32)
    expires_at: datetime = _ts()
    last_poll_at: datetime | None = _ts_null()


class ApiKey(SQLModel, table=True):
    """A long-lived key for OpenAI-style clients: scoped, revocable, stored only as its sha256."""

    __tablename__ = "api_keys"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)  # the key's first characters, to tell keys apart in a list
    key_hash: str = Field(index=True, unique=True, max_length=64)
    scopes: str = Field(default="", max_length=500)  # space-separated
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts_null()
    revoked_at: datetime | None = _ts_null()


class SyncUpdate(SQLModel, table=True):
    """Append-only: every update a replica sent, until compaction folds it into the snapshot."""

    __tablename__ = "sync_updates"
    __table_args__ = (UniqueConstraint("user_id", "doc", "digest", name="uq_sync_update_digest"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    user_id: str = Field(foreign_key="users.id", max_length=32)
    doc: str = Field(max_length=64)
    digest: str = Field(max_length=64)  # sha256 hex: the same update twice is stored once
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    device_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()


class SyncSnapshot(SQLModel, table=True):
    """The document up to `upto_id`, merged into one Yjs update."""

    __tablename__ = "sync_snapshots"
    user_id: str = Field(primary_key=True, foreign_key="users.id", max_length=32)
    doc: str = Field(primary_key=True, max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    upto_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    compactions: int = 0
    updated_at: datetime = _ts()


class AnalyticsEvent(SQLModel, table=True):
    """One thing a hub reports: a turn, an error, a device action. Keyed by the hub's event id,
    so a batch sent twice is stored once."""

    __tablename__ = "analytics_events"
    user_id: str = Field(primary_key=True, foreign_key="users.id", max_length=32)
    event_id: str = Field(primary_key=True, max_length=64)
    hub_id: str = Field(index=True, max_length=128)
    type: str = Field(max_length=16)  # turn | error | device
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    route: str | None = Field(default=None, max_length=16)
    intent: str | None = Field(default=None, max_length=64)
    latency_ms: float | None = None
    error_code: str | None = Field(default=None, max_length=64)
    device: str | None = Field(default=None, max_length=128)
    transcript: str | None = Field(default=None, max_length=2000)  # only with the user's opt-in
    stages: dict[str, float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # a turn's, ms


class NotificationChannel(SQLModel, table=True):
    """Where a user's notifications go besides their connected apps: a webhook, signed with its
    own secret. `topics` filters (space-separated; empty takes every topic)."""

    __tablename__ = "notification_channels"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    kind: str = Field(default="webhook", max_length=16)
    name: str = Field(default="", max_length=100)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=128)  # HMAC key; shown once, never logged
    topics: str = Field(default="", max_length=500)
    enabled: bool = True
    created_at: datetime = _ts()


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    topic: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, max_length=32)  # the device that sent it, if not the user
    created_at: datetime = _ts()


class WebhookDelivery(SQLModel, table=True):
    """One notification to one webhook: retried with backoff until delivered or dead-lettered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "channel_id", name="uq_delivery_once"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    notification_id: str = Field(foreign_key="notifications.id", max_length=32)
    channel_id: str = Field(foreign_key="notification_channels.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    status: str = Field(default="pending", max_length=16)  # pending | delivered | dead
    attempts: int = 0
    next_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = _ts_null()
    created_at: datetime = _ts()
