"""`companion home` (#21): invite and join, refusals with codes, and `show` finding the home's hubs on
the broker (their retained statuses) and on the LAN (mDNS), never another home's."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from edge_runtime.api.discovery import Advertiser, lan_addresses
from edge_runtime.peers import Home, PeerLink
from tests.cli.hub_process import cli, hub_env


def test_invite_join_and_the_refusals(tmp_path: Path) -> None:
    first, second = hub_env(tmp_path / "a"), hub_env(tmp_path / "b")
    token = cli(first, "home", "invite").stdout.strip()
    key = tmp_path / "a" / "config" / "home.key"
    assert token.startswith("home1.") and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert cli(first, "home", "invite").stdout.strip() == token  # the same home each time
    own = cli(second, "home", "invite").stdout.strip()  # b has a home of its own now
    refused = cli(second, "home", "join", token)
    assert refused.returncode == 2 and "HOME_ALREADY_JOINED" in refused.stderr and "Traceback" not in refused.stderr
    joined = cli(second, "home", "join", token, "--force")
    assert joined.returncode == 0, joined.stderr
    assert cli(second, "home", "invite").stdout.strip() == token != own
    assert stat.S_IMODE(os.stat(tmp_path / "b" / "config" / "home.key").st_mode) == 0o600
    for bad in ("nonsense", "home1.AAAA"):
        broken = cli(second, "home", "join", bad, "--force")
        assert broken.returncode == 2 and "HOME_TOKEN_INVALID" in broken.stderr, broken.stderr


def test_show_lists_the_homes_hubs_on_the_broker_and_on_the_lan(mosquitto, tmp_path: Path) -> None:
    addresses = lan_addresses()
    assert addresses, "mDNS needs a non-loopback IPv4 interface (ip addr); this machine has none"
    env = hub_env(tmp_path / "me", mqtt_url=mosquitto.url)
    home = Home.from_token(cli(env, "home", "invite").stdout.strip())

    async def scenario() -> dict[str, Any]:
        kitchen = PeerLink(home, "hub-kitchen", mosquitto.url, room="Kitchen", name="Kitchen hub")
        await kitchen.start()
        await asyncio.wait_for(kitchen.connected.wait(), 5)
        # A hub of this home on another broker, and a stranger's hub: both only on the LAN.
        apart = Advertiser("hub-apart00001", "Attic hub", 48771, addresses, home=home.home_id)
        stranger = Advertiser("hub-strange0001", "Next door", 48772, addresses, home=Home.new().home_id)
        assert await apart.start() and await stranger.start()
        try:
            shown = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli",
                "home",
                "show",
                "--json",
                "--lan",
                "--wait",
                "2",
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            out, err = await shown.communicate()
            assert shown.returncode == 0, err.decode()
            return dict(json.loads(out))
        finally:
            await apart.stop()
            await stranger.stop()
            await kitchen.stop()

    found = asyncio.run(scenario())
    hubs = {h["hub"]: h for h in found["hubs"]}
    assert found["home_id"] == home.home_id
    assert set(hubs) == {"hub-kitchen", "hub-apart00001"}, hubs  # never the stranger
    assert hubs["hub-kitchen"]["broker"] is True and hubs["hub-kitchen"]["room"] == "Kitchen"
    assert hubs["hub-apart00001"]["broker"] is False
    assert hubs["hub-apart00001"]["lan"] == [f"{a}:48771" for a in addresses]
