"""tshark on the hub namespace's WAN interface, and what the capture's TCP streams carried.

The hub speaks plain HTTP to the cloud side in these tests (no TLS on the namespace link), so the
capture sees every payload. `streams()` reassembles each TCP stream's two directions from tshark's
per-segment payloads (by sequence number; retransmissions counted once)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.netns.lab import HOW_TO_RUN, HubNamespace, NetnsUnavailable
from tests.netns.payloads import Traffic, inspect


@dataclass
class Direction:
    src: str
    dst: str
    data: bytes = b""


@dataclass
class Stream:
    index: int
    parts: dict[str, Direction] = field(default_factory=dict)  # "out" (the hub sent), "in" (it received)
    packets: int = 0


class Capture:
    def __init__(self, ns: HubNamespace, path: Path, interface: str = "wan0") -> None:
        if shutil.which("tshark") is None:
            raise NetnsUnavailable(f"tshark is not installed; {HOW_TO_RUN}")
        self.ns, self.path, self.interface = ns, path, interface
        self.log = path.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Capture:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        args = [*self.ns.exec_prefix, "tshark", "-i", self.interface, "-n", "-w", str(self.path), "-f", "tcp"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log.open("w"))
        deadline = time.monotonic() + 20
        while "Capturing on" not in self.log.read_text():  # dumpcap says so once the interface is open
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise NetnsUnavailable(f"tshark did not start: {self.log.read_text()[-1000:]}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            time.sleep(0.5)  # the last packets reach the file
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def streams(self, hub_address: str) -> list[Stream]:
        fields = ["tcp.stream", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.payload"]
        args = ["tshark", "-r", str(self.path), "-n", "-Y", "tcp", "-T", "fields", "-E", "separator=|"]
        for name in fields:
            args += ["-e", name]
        args += ["-o", "tcp.relative_sequence_numbers:TRUE"]
        rows = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
        segments: dict[tuple[int, str], dict[int, bytes]] = defaultdict(dict)
        streams: dict[int, Stream] = {}
        for row in rows:
            number, src, dst, sport, dport, seq, payload = row.split("|")
            stream = streams.setdefault(int(number), Stream(int(number)))
            stream.packets += 1
            side = "out" if src == hub_address else "in"
            stream.parts.setdefault(side, Direction(f"{src}:{sport}", f"{dst}:{dport}"))
            if payload:
                segments[(int(number), side)].setdefault(int(seq), bytes.fromhex(payload.replace(":", "")))
        for (index, side), by_seq in segments.items():
            data, expected = bytearray(), None
            for at in sorted(by_seq):
                chunk = by_seq[at]
                if expected is not None and at < expected:  # an overlapping retransmission
                    chunk = chunk[expected - at :]
                data += chunk
                expected = max(expected or 0, at + len(by_seq[at]))
            streams[index].parts[side].data = bytes(data)
        return [streams[i] for i in sorted(streams)]


def survey(streams: list[Stream]) -> Traffic:
    """Every stream's messages and findings, together (tests/netns/payloads.py)."""
    total = Traffic()
    for stream in streams:
        out, inbound = stream.parts.get("out"), stream.parts.get("in")
        name = f"stream {stream.index} ({(out or inbound or Direction('?', '?')).dst})"
        found = inspect(out.data if out else b"", inbound.data if inbound else b"", name)
        total.kinds += found.kinds
        total.findings += found.findings
    return total
