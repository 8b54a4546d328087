"""The LLM gateway, driven by the official `openai` client, on the built-in model and upstreams."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from tests.cloud.server import CloudServer, Silent, bearer, fresh_database, signup


def oai(cloud: CloudServer, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{cloud.url}/v1", api_key=token, max_retries=0, timeout=60)


def test_models_and_completion_with_the_openai_client(cloud: CloudServer, client: httpx.Client) -> None:
    llm = oai(cloud, signup(client)["access_token"])
    assert "companion" in [m.id for m in llm.models.list().data]
    question = [{"role": "user", "content": "What is the capital of France?"}]
    reply = llm.chat.completions.create(model="companion", max_tokens=24, temperature=0, seed=1, messages=question)
    assert "Paris" in (reply.choices[0].message.content or "")
    assert reply.usage is not None and reply.usage.completion_tokens > 0 and reply.choices[0].finish_reason == "stop"


def test_streaming_with_the_openai_client(cloud: CloudServer, client: httpx.Client) -> None:
    llm = oai(cloud, signup(client)["access_token"])
    stream = llm.chat.completions.create(
        model="companion",
        max_tokens=24,
        temperature=0,
        seed=1,
        stream=True,
        messages=[
            {"role": "system", "content": "The user is in Berlin."},
            {"role": "user", "content": "What is two plus two?"},
        ],
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len([p for p in pieces if p]) >= 2  # it really streamed
    assert "four" in "".join(pieces).lower() or "4" in "".join(pieces)


def test_unknown_model_and_bad_requests(cloud: CloudServer, client: httpx.Client) -> None:
    token = signup(client)["access_token"]
    with pytest.raises(openai.NotFoundError) as exc:
        oai(cloud, token).chat.completions.create(model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    assert exc.value.code == "MODEL_NOT_FOUND"  # the openai client reads our error shape
    empty = client.post("/v1/chat/completions", json={"messages": []}, headers=bearer(token))
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "INVALID_REQUEST"
    huge = client.post(
        "/v1/chat/completions",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    nul = client.post("/v1/auth/devices", json={"kind": "app", "name": "bad\u0000name"}, headers=bearer(token))
    assert nul.status_code == 422 and nul.json()["error"]["code"] == "INVALID_REQUEST"


def test_escalation_streams_a_reply_with_the_users_context(cloud: CloudServer, client: httpx.Client) -> None:
    user = signup(client)
    client.patch("/v1/profile", json={"name": "Ada", "timezone": "Europe/Berlin"}, headers=bearer(user["access_token"]))
    request = {
        "hub_id": "hub-1",
        "conversation": [{"role": "user", "text": "What is the capital of France?"}],
        "context": {
            "room": "kitchen",
            "local_time": "2026-11-24T20:15:00+01:00",
            "devices": [{"name": "Kitchen Light", "kind": "light", "area": "Kitchen", "state": {"on": True}}],
        },
    }
    events = []
    with client.stream("POST", "/v1/escalate", json=request, headers=bearer(user["access_token"])) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(httpx.Response(200, content=line[6:]).json())
    assert events[-1]["type"] == "done" and "Paris" in events[-1]["reply"] and events[-1]["actions"] == []
    assert any(e["type"] == "reply.delta" for e in events)
    whole = client.post("/v1/escalate", json={**request, "stream": False}, headers=bearer(user["access_token"]))
    assert whole.status_code == 200 and "Paris" in whole.json()["reply"]
    wrong = client.post(
        "/v1/escalate",
        json={**request, "conversation": [{"role": "assistant", "text": "hi"}]},
        headers=bearer(user["access_token"]),
    )
    assert wrong.status_code == 422


def test_upstreams_fallback_and_timeouts(cloud: CloudServer, client: httpx.Client, tmp_path: Path) -> None:
    """A second gateway fronts the first over the OpenAI API; then a hanging and a dead upstream."""
    owner = signup(client)
    upstream_key = client.post(
        "/v1/auth/devices",
        json={"kind": "app", "name": "gateway", "scopes": "chat"},
        headers=bearer(owner["access_token"]),
    ).json()["tokens"]["access_token"]
    silent = Silent()
    db = fresh_database()
    servers = {
        "proxy": CloudServer(
            tmp_path / "proxy",
            services=["auth", "chat"],
            database_url=db,
            llm_builtin="false",
            llm_upstreams=f'["{cloud.url}/v1"]',
            llm_upstream_api_key=upstream_key,
        ),
        "hang": CloudServer(
            tmp_path / "hang",
            services=["auth", "chat"],
            database_url=db,
            llm_builtin="false",
            llm_upstreams=f'["{silent.url}"]',
            llm_first_token_timeout_s="1",
            llm_timeout_s="5",
        ),
        "fallback": CloudServer(
            tmp_path / "fb",
            services=["auth", "chat"],
            database_url=db,
            llm_upstreams='["http://127.0.0.1:9/v1"]',
            llm_first_token_timeout_s="20",
        ),
    }
    try:
        for s in servers.values():
            s.start()
        token = signup(httpx.Client(base_url=servers["proxy"].url, timeout=60))["access_token"]
        ask = {
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "max_tokens": 20,
            "temperature": 0,
        }
        proxied = httpx.post(f"{servers['proxy'].url}/v1/chat/completions", json=ask, headers=bearer(token), timeout=60)
        assert proxied.status_code == 200 and "Paris" in proxied.json()["choices"][0]["message"]["content"]
        hung = httpx.post(f"{servers['hang'].url}/v1/chat/completions", json=ask, headers=bearer(token), timeout=30)
        assert hung.status_code == 504 and hung.json()["error"]["code"] == "UPSTREAM_TIMEOUT"
        fell_back = httpx.post(
            f"{servers['fallback'].url}/v1/chat/completions", json=ask, headers=bearer(token), timeout=60
        )
        assert fell_back.status_code == 200 and "Paris" in fell_back.json()["choices"][0]["message"]["content"]
        servers["proxy"].stop()
        dead = CloudServer(
            tmp_path / "dead",
            services=["auth", "chat"],
            database_url=db,
            llm_builtin="false",
            llm_upstreams='["http://127.0.0.1:9/v1"]',
        ).start()
        servers["dead"] = dead
        failed = httpx.post(f"{dead.url}/v1/chat/completions", json=ask, headers=bearer(token), timeout=30)
        assert failed.status_code == 502 and failed.json()["error"]["code"] == "UPSTREAM_FAILED"
    finally:
        for s in servers.values():
            s.stop()
        silent.close()
