"""The cloud as an OpenAI-compatible API, as an integrator uses it: an account and a key made with
the `companion` CLI, then the official `openai` client against the running cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from tests.cloud.server import CloudServer, bearer


def companion(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def account(cloud: CloudServer, tmp_path: Path) -> dict[str, str]:
    """A user made by `companion cloud signup`; the env its CLI runs with."""
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(tmp_path / "c"),
        "COMPANION_DATA_DIR": str(tmp_path / "d"),
        "COMPANION_CLOUD_URL": cloud.url,
    }
    email = f"dev-{uuid.uuid4().hex[:8]}@example.com"
    made = companion(env, "cloud", "signup", "--email", email, "--password", "correct horse battery")
    assert made.returncode == 0 and email in made.stderr, made.stderr
    assert "warning" not in made.stderr.lower()
    return {"email": email, **env}


def key(env: dict[str, str], *args: str) -> dict[str, str]:
    made = companion(env, "cloud", "keys", "create", "--json", *args)
    assert made.returncode == 0, made.stderr
    record = dict(json.loads(made.stdout))
    assert record["key"].startswith("ck_") and record["prefix"] == record["key"][: len(record["prefix"])]
    return record


def oai(cloud: CloudServer, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{cloud.url}/v1", api_key=api_key, max_retries=0, timeout=60)


def test_a_key_from_the_cli_serves_the_openai_client(cloud: CloudServer, account: dict[str, str]) -> None:
    env = {k: v for k, v in account.items() if k != "email"}
    made = key(env, "--name", "notebook")
    llm = oai(cloud, made["key"])
    models = llm.models.list().data
    assert {"companion", "embed-minilm-int8"} <= {m.id for m in models} and all(m.created > 0 for m in models)

    stream = llm.chat.completions.create(
        model="companion",
        max_tokens=16,
        temperature=0,
        seed=1,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "What is two plus two?"}],
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() and chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0 and chunks[-1].usage.total_tokens > chunks[-1].usage.prompt_tokens

    vectors = llm.embeddings.create(model="embed-minilm-int8", input=["a small cat", "a kitten", "a tax return"])
    found = np.array([d.embedding for d in vectors.data])
    assert found.shape == (3, 384) and np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-3)
    assert found[0] @ found[1] > found[0] @ found[2]  # the model really embeds meaning
    assert vectors.usage.prompt_tokens > 0
    floats = llm.embeddings.create(model="embed-minilm-int8", input="a kitten", encoding_format="float")
    assert np.allclose(floats.data[0].embedding, found[1], atol=1e-5)

    with pytest.raises(openai.BadRequestError) as two:
        llm.chat.completions.create(model="companion", n=2, messages=[{"role": "user", "content": "hi"}])
    error = two.value.body
    assert isinstance(error, dict) and error["code"] == "UNSUPPORTED_PARAMETER" and error["param"] == "n"
    assert error["type"] == "invalid_request_error" and error["message"]
    tool: Any = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as tools:
        llm.chat.completions.create(model="companion", tools=[tool], messages=[{"role": "user", "content": "hi"}])
    refused: Any = tools.value.body
    assert refused["param"] == "tools" and "built-in" in refused["message"]


def test_keys_are_listed_without_the_secret_scoped_and_revoked(
    cloud: CloudServer, account: dict[str, str], client: httpx.Client
) -> None:
    env = {k: v for k, v in account.items() if k != "email"}
    chat_only = key(env, "--name", "chat only", "--scopes", "chat")
    listed = companion(env, "cloud", "keys", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["chat only"] and chat_only["key"] not in listed.stdout
    table = companion(env, "cloud", "keys", "list")
    assert table.returncode == 0 and max(len(line) for line in table.stdout.splitlines()) <= 80, table.stdout

    with pytest.raises(openai.PermissionDeniedError) as scope:
        oai(cloud, chat_only["key"]).embeddings.create(model="embed-minilm-int8", input="hi")
    assert scope.value.code == "SCOPE_MISSING"
    # A key works for the API, never for the account: it cannot make more keys.
    more = client.post("/v1/auth/keys", json={"name": "x"}, headers=bearer(chat_only["key"]))
    assert more.status_code == 403 and more.json()["error"]["code"] == "USER_REQUIRED"

    revoked = companion(env, "cloud", "keys", "revoke", chat_only["id"])
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(openai.AuthenticationError) as refused:
        oai(cloud, chat_only["key"]).models.list()
    assert refused.value.code == "API_KEY_REVOKED"
    with pytest.raises(openai.AuthenticationError) as unknown:
        oai(cloud, "ck_" + "x" * 43).models.list()
    assert unknown.value.code == "API_KEY_INVALID"
    gone = companion(env, "cloud", "keys", "revoke", "no-such-key")
    assert gone.returncode == 2 and "API_KEY_NOT_FOUND" in gone.stderr and "Traceback" not in gone.stderr


class ToolServer:
    """An OpenAI-compatible upstream that calls a tool: it stands for vLLM here, and keeps each
    request it got, to show what the gateway passed through."""

    def __init__(self) -> None:
        import http.server
        import threading

        seen: list[Any] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._send("application/json", json.dumps({"data": [{"id": "tool-model"}]}).encode())

            def do_POST(self) -> None:
                seen.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                call = {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": '},
                }
                rest = {"index": 0, "function": {"arguments": '"Oslo"}'}}
                events = [
                    {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
                    {"choices": [{"index": 0, "delta": {"tool_calls": [rest]}, "finish_reason": "tool_calls"}]},
                    {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}},
                ]
                body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
                self._send("text/event-stream", body)

            def _send(self, kind: str, body: bytes) -> None:
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_tools_and_response_format_pass_through_to_an_upstream_that_has_them(tmp_path: Path) -> None:
    from tests.cloud.server import fresh_database, signup

    upstream = ToolServer()
    with CloudServer(
        tmp_path,
        services=["auth", "chat"],
        database_url=fresh_database(),
        llm_builtin="false",
        llm_upstreams=json.dumps([upstream.url]),
    ) as server:
        llm = oai(server, signup(httpx.Client(base_url=server.url))["access_token"])
        tool: Any = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
        schema: Any = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}}
        ask: Any = [{"role": "user", "content": "Weather in Oslo?"}]
        reply = llm.chat.completions.create(
            model="tool-model", tools=[tool], tool_choice="auto", messages=ask, response_format=schema
        )
        calls: Any = reply.choices[0].message.tool_calls
        call = calls[0]
        assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
        assert reply.choices[0].finish_reason == "tool_calls" and reply.usage and reply.usage.total_tokens == 16
        streamed = list(llm.chat.completions.create(model="tool-model", tools=[tool], messages=ask, stream=True))
        deltas = [d for c in streamed if c.choices for d in (c.choices[0].delta.tool_calls or [])]
        assert deltas and deltas[0].function and deltas[0].function.name == "get_weather"
    sent = upstream.seen[0]
    assert sent["tools"] == [tool] and sent["tool_choice"] == "auto" and sent["response_format"] == schema
    assert "n" not in sent and sent["stream"] is True
    upstream.server.shutdown()
