"""A network namespace for the hub, with two links into the test's (root) namespace:

    hub namespace                          root namespace (the test, the broker, the cloud)
    lan0  10.213.R.2/30  <-- veth -->  cmL<tag> 10.213.R.1/30   LAN: Mosquitto, the app's API client
    wan0  10.213.R.6/30  <-- veth -->  cmW<tag> 10.213.R.5/30   "the internet": the cloud, via a proxy

The hub namespace has no default route: the hub reaches the LAN side and the cloud side and
nothing else. `cut()` takes the root end of the WAN link down, as when the home's uplink dies:
the hub's own interface stays configured (its route to the cloud remains, NO-CARRIER), so what it
sends is lost without an error and its connections hang until their own time budgets end, the
harder case than "network unreachable". `restore()` brings it back.

Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns`). Without them `require_netns()` raises
with how to run the tests; they fail, they are never skipped.

There is no `sch_netem` in this project's test kernel (`tc qdisc ... netem` fails), so a slow link
is a userspace proxy on the WAN side instead (tests/netns/proxy.py)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import time
import uuid
from pathlib import Path

PREFIX = "cmpn"  # every namespace the harness makes: cmpn<pid>-<hex>
HOW_TO_RUN = (
    "the netns tests need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces and veth "
    "pairs: run them as root, e.g. `sudo .venv/bin/python -m pytest tests/netns`, or in a container "
    "started with `--cap-add NET_ADMIN --cap-add SYS_ADMIN` (or `--privileged`); they need iproute2 "
    "(`ip`) and tshark (`scripts/system-deps.sh` installs both)"
)


class NetnsUnavailable(RuntimeError):
    pass


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=False)
    if check and done.returncode != 0:
        raise NetnsUnavailable(f"`ip {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done


def require_netns() -> None:
    """Raise NetnsUnavailable, saying how to run the tests, unless namespaces can be made here."""
    if shutil.which("ip") is None:
        raise NetnsUnavailable(f"`ip` (iproute2) is not installed; {HOW_TO_RUN}")
    probe = f"{PREFIX}probe{os.getpid()}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        raise NetnsUnavailable(f"cannot create a network namespace ({made.stderr.strip()}); {HOW_TO_RUN}")
    ip("netns", "del", probe, check=False)


def sweep_stale() -> None:
    """Namespaces left by a harness process that died (killed mid-test): deleted with their veths."""
    listed = ip("netns", "list", check=False).stdout.split()
    for name in listed:
        if not name.startswith(PREFIX) or "-" not in name:
            continue
        pid = name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _delete(name)


def _delete(name: str) -> None:
    for pid in ip("netns", "pids", name, check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 9)
    ip("netns", "del", name, check=False)  # its veth ends go with it, and so do their root peers


def _free_subnet() -> int:
    used = ip("-4", "-o", "addr", check=False).stdout
    for _ in range(200):
        r = random.randrange(1, 255)
        if f"10.213.{r}." not in used:
            return r
    raise NetnsUnavailable("no free 10.213.x.0/29 subnet for the harness")


class HubNamespace:
    """`with HubNamespace() as ns:` ns.exec_prefix, ns.lan_host/lan_hub, ns.wan_host/wan_hub, ns.cut()."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.name = f"{PREFIX}{os.getpid()}-{tag}"
        self.lan_veth, self.wan_veth = f"cmL{tag}", f"cmW{tag}"  # the root ends (names under 16 bytes)
        self.made = False

    def __enter__(self) -> HubNamespace:
        require_netns()
        sweep_stale()
        try:
            self._make()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make(self) -> None:
        r = _free_subnet()
        self.lan_host, self.lan_hub = f"10.213.{r}.1", f"10.213.{r}.2"
        self.wan_host, self.wan_hub = f"10.213.{r}.5", f"10.213.{r}.6"
        ip("netns", "add", self.name)
        self.made = True
        ip("-n", self.name, "link", "set", "lo", "up")
        for root_end, inner, host, hub in (
            (self.lan_veth, "lan0", self.lan_host, self.lan_hub),
            (self.wan_veth, "wan0", self.wan_host, self.wan_hub),
        ):
            ip("link", "add", root_end, "type", "veth", "peer", "name", inner, "netns", self.name)
            ip("addr", "add", f"{host}/30", "dev", root_end)
            ip("link", "set", root_end, "up")
            ip("-n", self.name, "addr", "add", f"{hub}/30", "dev", inner)
            ip("-n", self.name, "link", "set", inner, "up")
        self._wait_carrier(True)

    @property
    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def cut(self) -> None:
        """The uplink dies: the root end goes down; the hub's end stays configured, without carrier."""
        ip("link", "set", self.wan_veth, "down")
        self._wait_carrier(False)

    def restore(self) -> None:
        ip("link", "set", self.wan_veth, "up")
        self._wait_carrier(True)

    def wan_carrier(self) -> bool:
        shown = ip("-n", self.name, "-o", "link", "show", "wan0").stdout
        return "NO-CARRIER" not in shown and "state UP" in shown

    def _wait_carrier(self, up: bool, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.wan_carrier() != up:
            if time.monotonic() > deadline:
                raise NetnsUnavailable(f"wan0 carrier still {not up} after {timeout_s} s")
            time.sleep(0.05)
        if up:  # the routes of a link that came back are in place before anyone uses it
            while self.wan_host not in ip("-n", self.name, "route", "get", self.wan_host).stdout:
                time.sleep(0.05)

    def close(self) -> None:
        if self.made:
            _delete(self.name)
            self.made = False
        for veth in (self.lan_veth, self.wan_veth):  # gone with the namespace; this is belt and braces
            if ip("link", "show", veth, check=False).returncode == 0:
                ip("link", "del", veth, check=False)

    def exists(self) -> bool:
        return self.name in ip("netns", "list", check=False).stdout.split()
