"""rag on a real cloud process: documents (text, Markdown, PDF) and synced memory, embedded by
MiniLM from the registry into chromadb, searched with citations; users apart; bad files refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sync import Replica, sync_http
from tests.cloud.server import CloudServer, bearer, fresh_database, signup


def pdf(*pages: str) -> bytes:
    """A small, valid PDF with one line of text per page (Helvetica), offsets and all."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    font = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with CloudServer(
        tmp_path_factory.mktemp("rag"),
        services=["auth", "sync", "rag"],
        database_url=fresh_database(),
        rag_answers="false",
    ) as server:
        yield server


def add(url: str, token: str, data: bytes, kind: str, title: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/rag/documents",
        params={"title": title},
        content=data,
        headers={**bearer(token), "Content-Type": kind},
        timeout=60,
    )


def test_documents_and_memory_are_searched_with_citations(cloud: CloudServer, tmp_path: Path) -> None:
    user = signup(httpx.Client(base_url=cloud.url))
    token = user["access_token"]
    manual = pdf("The boiler needs a service every October.", "Reset the boiler by holding the red button.")
    assert add(cloud.url, token, manual, "application/pdf", "Boiler manual").status_code == 201
    notes = b"# Garden\n\nWater the tomatoes every evening in July.\n\n# Car\n\nThe car's MOT is due in March."
    assert add(cloud.url, token, notes, "text/markdown", "Notes").json()["chunks"] == 2
    assert add(cloud.url, token, b"Le code du portail est 4521.", "text/plain", "Gate").status_code == 201
    listed = httpx.get(f"{cloud.url}/v1/rag/documents", headers=bearer(token)).json()
    assert sorted(d["title"] for d in listed) == ["Boiler manual", "Gate", "Notes"]

    phone = Replica.open(tmp_path / "phone.db")  # the user's memory, synced from the app
    phone.doc.add_memory("My sister Grace's birthday is on the 4th of May", item_id="grace")
    asyncio.run(sync_http(phone, cloud.url, token))

    def ask(question: str) -> list[dict[str, object]]:
        reply = httpx.post(
            f"{cloud.url}/v1/rag/query", json={"question": question, "k": 3}, headers=bearer(token), timeout=60
        )
        assert reply.status_code == 200, reply.text
        return list(reply.json()["results"])

    boiler = ask("how do I reset the boiler?")[0]
    assert boiler["title"] == "Boiler manual" and boiler["page"] == 2 and boiler["n"] == 1
    assert "red button" in str(boiler["text"])
    garden = ask("when should I water the tomatoes?")[0]
    assert garden["title"] == "Notes" and garden["heading"] == "Garden"
    memory = ask("when is Grace's birthday?")[0]
    assert memory["source"] == "memory" and "4th of May" in str(memory["text"])
    phone.doc.edit_memory("grace", "My sister Grace's birthday is on the 9th of June")
    asyncio.run(sync_http(phone, cloud.url, token))
    assert "9th of June" in str(ask("when is Grace's birthday?")[0]["text"])  # re-indexed on change

    stranger = signup(httpx.Client(base_url=cloud.url))["access_token"]
    assert httpx.get(f"{cloud.url}/v1/rag/documents", headers=bearer(stranger)).json() == []
    theirs = httpx.post(f"{cloud.url}/v1/rag/query", json={"question": "boiler"}, headers=bearer(stranger), timeout=60)
    assert theirs.json()["results"] == []  # another user's documents and memory are out of reach
    gone = httpx.delete(f"{cloud.url}/v1/rag/documents/{listed[0]['id']}", headers=bearer(stranger))
    assert gone.status_code == 404
    doc_id = next(d["id"] for d in listed if d["title"] == "Gate")
    assert httpx.delete(f"{cloud.url}/v1/rag/documents/{doc_id}", headers=bearer(token)).status_code == 204


def test_bad_files_get_a_code(cloud: CloudServer) -> None:
    token = signup(httpx.Client(base_url=cloud.url))["access_token"]
    cases = [
        (b"", "text/plain", 422, "RAG_EMPTY"),
        (b"\x89PNG\r\n\x1a\n...", "image/png", 415, "RAG_UNSUPPORTED_TYPE"),
        (b"this is not a pdf at all", "application/pdf", 422, "RAG_BAD_PDF"),
        (b"%PDF-1.4 broken \x00\x01 garbage", "application/pdf", 422, "RAG_BAD_PDF"),
        ("caf\xe9".encode("latin-1"), "text/plain", 422, "RAG_BAD_TEXT"),
        (b"x" * 2_000_000, "text/plain", 413, "PAYLOAD_TOO_LARGE"),
    ]
    for data, kind, status, code in cases:
        response = add(cloud.url, token, data, kind, "bad")
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (kind, response.text)
    assert httpx.get(f"{cloud.url}/v1/rag/documents", headers=bearer(token)).json() == []
    unauth = httpx.post(f"{cloud.url}/v1/rag/query", json={"question": "x"})
    assert unauth.status_code == 401


def test_answers_are_grounded_through_the_gateway(tmp_path: Path) -> None:
    server = CloudServer(
        tmp_path / "answers", services=["auth", "rag", "escalation"], database_url=fresh_database(), llm_max_tokens="48"
    ).start()
    try:
        token = signup(httpx.Client(base_url=server.url))["access_token"]
        assert add(server.url, token, b"The wifi password is bluebird42.", "text/plain", "Wifi").status_code == 201
        question = {"question": "what is the wifi password?", "answer": True}
        reply = httpx.post(f"{server.url}/v1/rag/query", json=question, headers=bearer(token), timeout=120)
        body = reply.json()
        assert reply.status_code == 200 and body["results"][0]["title"] == "Wifi"
        assert isinstance(body["answer"], str) and body["answer"]
        turn = {
            "hub_id": "h",
            "stream": False,
            "conversation": [{"role": "user", "text": "what is the wifi password?"}],
        }
        escalated = httpx.post(f"{server.url}/v1/escalate", headers=bearer(token), timeout=120, json=turn)
        assert escalated.status_code == 200 and escalated.json()["reply"]
    finally:
        server.stop()
