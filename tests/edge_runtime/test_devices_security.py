"""Broker credentials and TLS, on a real Mosquitto that demands them."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import BrokerUnavailable, DeviceHub, device_hub_from
from edge_runtime.settings import EdgeSettings


def test_credentials_are_required_and_used(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "b", users={"hub": "s3cret-hub", "devices": "s3cret-dev"}).start()
    try:
        url = f"mqtt://devices:s3cret-dev@127.0.0.1:{broker.port}"
        with Simulator(url, [device_from({"id": "plug", "name": "Plug", "kind": "switch", "convention": "ha"})]):

            async def scenario() -> None:
                settings = EdgeSettings(
                    mqtt_url=broker.url, mqtt_username="hub", mqtt_password="s3cret-hub", data_dir=tmp_path / "data"
                )  # type: ignore[arg-type]
                hub = await device_hub_from(settings).start()
                await hub.settle(quiet_s=0.3)
                await hub.set("Plug", {"on": True})
                await hub.stop()
                wrong = await DeviceHub(f"mqtt://hub:wrong@127.0.0.1:{broker.port}", tmp_path / "w.db").start()
                with pytest.raises(BrokerUnavailable):
                    await wrong.settle(max_s=1.0)
                await wrong.stop()
                anonymous = await DeviceHub(broker.url, tmp_path / "a.db").start()
                with pytest.raises(BrokerUnavailable):
                    await anonymous.settle(max_s=1.0)
                await anonymous.stop()

            asyncio.run(scenario())
    finally:
        broker.stop()


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    folder.mkdir()
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt"))

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "2",
        "-subj",
        "/CN=companion-test-ca",
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return ca, cert, key


def test_tls_with_the_hubs_ca(tmp_path: Path) -> None:
    ca, cert, key = _certificates(tmp_path / "certs")
    broker = Mosquitto(tmp_path / "b", tls=(ca, cert, key)).start()
    try:
        with Simulator(broker.url, [device_from({"id": "lock", "name": "Door", "kind": "lock", "convention": "ha"})]):

            async def scenario() -> None:
                tls_url = f"mqtts://127.0.0.1:{broker.tls_port}"
                hub = await DeviceHub(tls_url, tmp_path / "d.db", tls_files={"ca_file": str(ca)}).start()
                await hub.settle(quiet_s=0.3)
                await hub.set("Door", {"locked": False})
                assert hub.registry.resolve("Door").state["locked"] is False
                await hub.stop()
                untrusting = await DeviceHub(tls_url, tmp_path / "u.db").start()  # system CAs only
                with pytest.raises(BrokerUnavailable):
                    await untrusting.settle(max_s=1.0)
                await untrusting.stop()

            asyncio.run(scenario())
    finally:
        broker.stop()


def test_secrets_never_reach_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        hub = await DeviceHub("mqtt://hub:hunter2@127.0.0.1:1/", tmp_path / "d.db").start()
        with pytest.raises(BrokerUnavailable):
            await hub.settle(max_s=0.5)
        await hub.stop()

    asyncio.run(scenario())
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "hunter2" not in text
    settings = EdgeSettings(mqtt_password="hunter2")  # type: ignore[arg-type]
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
