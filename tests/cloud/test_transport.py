"""CORS for the app, TLS, and the docs switch, on real servers."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import httpx

from tests.cloud.server import CloudServer


def _certificate(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    key, cert = folder / "server.key", folder / "server.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_cors_tls_and_docs_switch(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path / "tls")
    server = CloudServer(
        tmp_path / "srv",
        services=["auth", "profile"],
        tls_cert_file=str(cert),
        tls_key_file=str(key),
        cors_origins='["https://app.example.com"]',
        api_docs="false",
    )
    server.url = server.url.replace("http://", "https://")
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        # start() polls /health over plain HTTP; poll over TLS here instead.
        for _ in range(300):
            try:
                if httpx.get(f"{server.url}/health", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                import time

                time.sleep(0.1)
        with httpx.Client(base_url=server.url, verify=trust) as c:
            assert c.get("/health").json()["status"] == "ok"
            asking = {
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            }
            preflight = c.options("/v1/profile", headers=asking)
            assert preflight.headers.get("access-control-allow-origin") == "https://app.example.com"
            foreign = c.options(
                "/v1/profile", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"}
            )
            assert "access-control-allow-origin" not in foreign.headers
            assert c.get("/openapi.json").status_code == 404 and c.get("/docs").status_code == 404
        try:
            httpx.get(f"{server.url}/health", timeout=2)  # the system CAs do not trust it
            raise AssertionError("self-signed certificate was accepted")
        except httpx.ConnectError:
            pass
    finally:
        server.stop()
