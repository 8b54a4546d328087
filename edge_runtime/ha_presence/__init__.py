"""The hub as a device in Home Assistant, over MQTT discovery (docs/HOME_ASSISTANT.md).

Its assist state, last transcript and reply, mute, volume, wake word and timers appear under
one device; availability follows the hub's MQTT last will.
"""

from __future__ import annotations

from edge_runtime.ha_presence.controls import Controls, VolumeSink
from edge_runtime.ha_presence.entities import HubDevice, discovery, node_id
from edge_runtime.ha_presence.presence import HaPresence
from edge_runtime.ha_presence.state import PresenceState
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.timers import TimerManager


def presence_from(
    settings: EdgeSettings, hub_id: str, controls: Controls, *, timers: TimerManager | None = None
) -> HaPresence:
    from importlib.metadata import version

    from device_drivers.mqtt_url import BrokerAddress
    from edge_runtime.engines import known_wake_words

    device = HubDevice(
        hub_id,
        settings.hub_name,
        settings.room,
        version("companion"),
        tuple(known_wake_words()),
        settings.ha_discovery_prefix,
    )
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    credentials = {
        "username": settings.mqtt_username,
        "password": password,
        "ca_file": settings.mqtt_ca_file,
        "cert_file": settings.mqtt_cert_file,
        "key_file": settings.mqtt_key_file,
    }
    return HaPresence(
        BrokerAddress.parse(settings.mqtt_url),
        device,
        controls,
        client_id=f"{settings.mqtt_client_id}-presence",
        credentials=credentials,
        timers=timers,
    )


__all__ = [
    "Controls",
    "HaPresence",
    "HubDevice",
    "PresenceState",
    "VolumeSink",
    "discovery",
    "node_id",
    "presence_from",
]
