"""The notification API's shapes: channels (Base/Create/Update/Public), notifications, deliveries."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

TOPIC = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
MAX_DATA_BYTES = 8192


def _check_topics(topics: list[str] | None) -> list[str] | None:
    if topics is None:
        return None
    for topic in topics:
        if not re.match(TOPIC, topic):
            raise ValueError(f"topic {topic!r} must match {TOPIC}")
    return sorted(set(topics))


class ChannelBase(BaseModel):
    name: str = Field("", max_length=100)
    topics: list[str] = Field(
        default_factory=list, max_length=32, description="only these topics; empty takes every topic"
    )

    _topics = field_validator("topics")(_check_topics)


class ChannelCreate(ChannelBase):
    kind: Literal["webhook"] = "webhook"
    url: str = Field(min_length=8, max_length=2000)


class ChannelUpdate(BaseModel):
    name: str | None = Field(None, max_length=100)
    topics: list[str] | None = Field(None, max_length=32)
    enabled: bool | None = None

    _topics = field_validator("topics")(_check_topics)


class ChannelPublic(ChannelBase):
    id: str
    kind: str
    url: str
    enabled: bool
    created_at: datetime


class ChannelWithSecret(ChannelPublic):
    secret: str = Field(description="the HMAC key for X-Companion-Signature; shown only now")


class NotificationCreate(BaseModel):
    topic: str = Field(pattern=TOPIC)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _small(cls, data: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(data)) > MAX_DATA_BYTES:
            raise ValueError(f"data must be at most {MAX_DATA_BYTES} bytes of JSON")
        return data


class NotificationPublic(NotificationCreate):
    id: str
    source: str | None
    created_at: datetime


class Sent(BaseModel):
    id: str
    webhooks: int = Field(description="deliveries queued")


class DeliveryPublic(BaseModel):
    id: str
    notification_id: str
    channel_id: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
