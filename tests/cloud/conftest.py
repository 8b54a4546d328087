from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.cloud.server import CloudServer, fresh_database, fresh_redis

METRICS_TOKEN = "operator-metrics-" + "m" * 24


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    """One server for the session: every service, real PostgreSQL and Redis, the built-in LLM."""
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        database_url=fresh_database(),
        redis_url=fresh_redis(1),
        llm_first_token_timeout_s="20",
        metrics_token=METRICS_TOKEN,
    ) as server:
        yield server


@pytest.fixture
def client(cloud: CloudServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cloud.url, timeout=60) as c:
        yield c
