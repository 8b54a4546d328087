"""mDNS/DNS-SD: the hub advertises `_companion._tcp` with its hub id and API port, so the app
finds it on the LAN without typing an address."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

SERVICE = "_companion._tcp.local."


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (what a phone on the LAN can reach)."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent; it picks the outgoing interface
        found.add(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)


def advertised_addresses(api_host: str) -> list[str]:
    if api_host in ("0.0.0.0", "::", ""):
        return lan_addresses()
    if ipaddress.ip_address(api_host).is_loopback:
        return []  # nobody else can reach a loopback API: nothing to advertise
    return [api_host]


class Advertiser:
    """One service of this hub on mDNS: `_companion._tcp` for the app by default; the Wyoming server
    passes `_wyoming._tcp`, with no properties, as Home Assistant discovers Wyoming services."""

    def __init__(
        self,
        hub_id: str,
        name: str,
        port: int,
        addresses: list[str],
        *,
        service: str = SERVICE,
        properties: dict[str, str] | None = None,
        home: str | None = None,
    ) -> None:
        """`home`: the id of this hub's home (a hash of its key), so hubs of one home know each other
        on the LAN too (`companion home show --lan`)."""
        self.hub_id, self.name, self.port, self.addresses = hub_id, name, port, addresses
        self.service = service
        self.properties = {"hub_id": hub_id, "api": "/v1", "name": name, "v": "1"} if properties is None else properties
        if home:
            self.properties["home"] = home
        self.zeroconf: Any = None
        self.info: Any = None

    async def start(self) -> bool:
        if not self.addresses:
            return False
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        label = f"{self.name} ({self.hub_id[-6:]})"[:63]
        self.info = AsyncServiceInfo(
            self.service,
            f"{label}.{self.service}",
            port=self.port,
            addresses=[socket.inet_aton(a) for a in self.addresses],
            properties=self.properties,
            server=f"{self.hub_id}.local.",
        )
        self.zeroconf = AsyncZeroconf(interfaces=self.addresses, ip_version=IPVersion.V4Only)
        await self.zeroconf.async_register_service(self.info, allow_name_change=True)
        return True

    async def stop(self) -> None:
        if self.zeroconf is not None:
            await self.zeroconf.async_unregister_service(self.info)
            await self.zeroconf.async_close()
            self.zeroconf = None


async def browse(timeout_s: float = 3.0) -> list[dict[str, Any]]:
    """Hubs answering on the LAN: what `companion hub discover` and the tests use."""
    import asyncio

    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    names: list[str] = []

    def changed(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            names.append(name)

    zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE], handlers=[changed])
    try:
        await asyncio.sleep(timeout_s)
        hubs = []
        for name in dict.fromkeys(names):
            info = AsyncServiceInfo(SERVICE, name)
            if await info.async_request(zc.zeroconf, 2000):
                props = {k.decode(): (v.decode() if v else "") for k, v in info.properties.items()}
                hubs.append(
                    {
                        "name": name.removesuffix("." + SERVICE),
                        "hub_id": props.get("hub_id"),
                        "port": info.port,
                        "addresses": info.parsed_addresses(),
                        "properties": props,
                    }
                )
        return hubs
    finally:
        await browser.async_cancel()
        await zc.async_close()
