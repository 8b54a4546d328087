"""Auth request and response shapes (SQLModel Base/Create/Public, after the FastAPI template)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr
from sqlmodel import Field, SQLModel

DEFAULT_HUB_SCOPES = "chat escalate profile:read sync analytics notify vision"
KNOWN_SCOPES = {
    "chat",
    "escalate",
    "profile:read",
    "profile:write",
    "metrics",
    "sync",
    "rag",
    "analytics",
    "notify",
    "vision",
    "voice",
    "embeddings",
}


class UserCreate(SQLModel):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=10, max_length=256)
    name: str = Field(default="", max_length=100)


class UserPublic(SQLModel):
    id: str
    email: str
    created_at: datetime


class TokenPublic(SQLModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    scope: str = ""


class RevokeRequest(SQLModel):
    token: str = Field(max_length=512)


class DeviceCodePublic(SQLModel):
    """RFC 8628 §3.2."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class DeviceApproval(SQLModel):
    user_code: str = Field(max_length=16)
    approve: bool = True


class DeviceCreate(SQLModel):
    kind: Literal["hub", "app"]
    name: str = Field(min_length=1, max_length=100)
    scopes: str = Field(default=DEFAULT_HUB_SCOPES, max_length=500)


class DevicePublic(SQLModel):
    id: str
    kind: str
    name: str
    client_id: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None


class DeviceCredentials(SQLModel):
    device: DevicePublic
    tokens: TokenPublic
