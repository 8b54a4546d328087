"""Constants of the wire that the hub and the cloud must agree on."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# RFC 8628's grant type: a hub polls the cloud's token endpoint with it until the user approves.
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def is_timezone(name: str) -> bool:
    """An IANA timezone name this machine knows ("Europe/Berlin"); both tiers refuse any other."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
