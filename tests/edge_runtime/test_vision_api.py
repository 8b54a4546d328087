"""The cameras on the hub's real LAN API (uvicorn on loopback, a paired app's token): the list with the
last event, a snapshot on demand, and coded refusals."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import cast

import cv2
import httpx
import numpy as np
from fastapi import FastAPI

from edge_runtime.api import ApiServer, HubContext
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision.api import router
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.service import VisionService
from tests.edge_runtime.vision_images import photo


def test_the_app_lists_cameras_and_takes_a_snapshot(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    cv2.imwrite(str(drop / "a.png"), photo("chelsea"))
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", api_port=0, api_mdns=False)

    async def scenario() -> None:
        context = HubContext.open(settings, "hub-cameras000000")
        context.start()
        server = ApiServer(context)
        app = cast(FastAPI, server.server.config.app)  # create_api's app, as uvicorn holds it
        app.include_router(router)
        async with VisionService(
            [
                CameraConfig("garage", str(drop), room="garage", motion=False),
                CameraConfig("porch", str(empty), motion=False),
            ],
            backoff_s=(0.2, 1.0),
        ) as service:
            app.state.vision = service
            await server.start()
            try:
                deadline = time.monotonic() + 10
                while service.cameras["garage"].state != "online" or service.cameras["porch"].state == "starting":
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                    assert (await client.get("/v1/cameras")).status_code == 401
                    paired = await client.post("/v1/pairing", json={"code": context.pairing.current_code()[0]})
                    client.headers["Authorization"] = f"Bearer {paired.json()['token']}"
                    listed = (await client.get("/v1/cameras")).json()
                    assert [(c["name"], c["state"]) for c in listed] == [("garage", "online"), ("porch", "unavailable")]
                    assert listed[0]["last_event"]["kind"] == "available" and listed[0]["room"] == "garage"
                    shot = await client.get("/v1/cameras/Garage/snapshot")
                    assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
                    image = cv2.imdecode(np.frombuffer(shot.content, np.uint8), 1)
                    assert image is not None and image.shape == photo("chelsea").shape
                    gone = await client.get("/v1/cameras/porch/snapshot")
                    assert (gone.status_code, gone.json()["error"]["code"]) == (503, "CAMERA_UNAVAILABLE")
                    nothing = await client.get("/v1/cameras/attic/snapshot")
                    assert (nothing.status_code, nothing.json()["error"]["code"]) == (404, "CAMERA_NOT_FOUND")
            finally:
                await server.stop()
                await context.close()

    asyncio.run(scenario())
