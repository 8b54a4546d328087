"""Where a webhook may point. By default not at the cloud's own network (loopback, private,
link-local): a user must not be able to make our servers call internal services (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from cloud.common.errors import ApiError


def _bad_url(message: str) -> ApiError:
    return ApiError(message, code="NOTIFY_BAD_URL", status=422, hint="use an http(s) URL that this cloud can reach")


def parse_webhook_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_url("a webhook needs an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise _bad_url("put credentials in the signature secret, not in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise _bad_url("the URL's port is not a number between 0 and 65535") from err
    return parts.hostname, port


NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))  # RFC 6052, RFC 8215
COMPATIBLE = ipaddress.IPv6Network("::/96")  # IPv4-compatible (RFC 4291, deprecated)
TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765, SIIT)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 one carries, in any of the forms a network may route to it:
    IPv4-mapped, -compatible and -translated, NAT64, 6to4, and both ends of Teredo."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip.teredo:
        found += list(ip.teredo)
    if any(ip in net for net in (*NAT64, COMPATIBLE, TRANSLATED)):
        found.append(low32)
    return found


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, reserved or multicast, however it is spelled. Every IPv4
    address an IPv6 one embeds is judged too: through NAT64 or 6to4, `[64:ff9b::7f00:1]` and
    `[2002:7f00:1::]` reach 127.0.0.1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in NAT64[1:]):  # local-use NAT64: the operator's own network
            return True
        return any(not v4.is_global or v4.is_multicast for v4 in embedded_ipv4(ip))
    return False


async def check_webhook_url(url: str, *, allow_private: bool) -> None:
    """Refuse a malformed URL always, and one resolving to an internal address unless allowed.
    Checked again before each delivery: DNS may change after the channel was made."""
    host, port = parse_webhook_url(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise ApiError(f"{host} does not resolve", code="NOTIFY_UNRESOLVABLE", status=422) from err
    if any(is_internal(str(info[4][0])) for info in infos):
        hint = "set COMPANION_CLOUD_NOTIFY_PRIVATE_WEBHOOKS=true for a LAN receiver"
        raise ApiError(
            f"{host} is a loopback, private or link-local address", code="NOTIFY_PRIVATE_URL", status=422, hint=hint
        )
