"""The hub's device layer: registry, state cache and confirmed control over MQTT."""

from __future__ import annotations

from typing import Any

from edge_runtime.devices.errors import (
    BrokerUnavailable,
    DeviceError,
    DeviceUnavailable,
    DeviceUnconfirmed,
    DeviceUnknown,
    InvalidDeviceCommand,
)
from edge_runtime.devices.hub import DeviceEvent, DeviceHub, default_codecs
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from edge_runtime.settings import EdgeSettings


def mqtt_credentials(settings: EdgeSettings) -> dict[str, Any]:
    """How this hub logs in to its broker: every MQTT client of the hub (devices, presence, peers) uses it."""
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    return {
        "username": settings.mqtt_username,
        "password": password,
        "ca_file": settings.mqtt_ca_file,
        "cert_file": settings.mqtt_cert_file,
        "key_file": settings.mqtt_key_file,
    }


def device_hub_from(settings: EdgeSettings, *, client_id: str | None = None) -> DeviceHub:
    login = mqtt_credentials(settings)
    hub = DeviceHub(
        settings.mqtt_url,
        settings.devices_db,
        codecs=default_codecs(settings.ha_discovery_prefix, settings.z2m_base_topic, settings.homie_prefix),
        client_id=client_id or settings.mqtt_client_id,
        command_timeout_s=settings.device_command_timeout_s,
        username=login.pop("username"),
        password=login.pop("password"),
        tls_files=login,
        guarded_classes=settings.confirm_class_set,
    )
    hub.registry.home_area = settings.room
    return hub


__all__ = [
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
]
