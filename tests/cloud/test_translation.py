"""translation on the real cloud: detection among the supported languages, translation through the
LLM gateway, and clear errors for unsupported pairs and unclear text."""

from __future__ import annotations

import httpx

from tests.cloud.server import bearer, signup

SAMPLES = {
    "en": "Where is the train station?",
    "de": "Wo ist der Bahnhof?",
    "fr": "Où est la gare ?",
    "es": "¿Dónde está la estación de tren?",
    "it": "Dov'è la stazione dei treni?",
    "pt": "Onde fica a estação de comboios?",
}


def test_detects_the_supported_languages(client: httpx.Client) -> None:
    headers = bearer(signup(client)["access_token"])
    for language, text in SAMPLES.items():
        found = client.post("/v1/translate/detect", json={"text": text}, headers=headers).json()
        assert found["language"] == language and found["sure"], (text, found)


def test_translates_through_the_gateway(client: httpx.Client) -> None:
    headers = bearer(signup(client)["access_token"])
    given = client.post("/v1/translate", json={"text": "Guten Morgen", "from": "de", "to": "en"}, headers=headers)
    assert given.status_code == 200, given.text
    assert given.json()["text"] and given.json()["source"] == "de" and given.json()["detected"] is False
    auto = client.post("/v1/translate", json={"text": SAMPLES["fr"], "to": "en"}, headers=headers).json()
    assert auto["source"] == "fr" and auto["detected"] is True and auto["confidence"] > 0.5 and auto["text"]
    same = client.post("/v1/translate", json={"text": SAMPLES["en"], "to": "en"}, headers=headers).json()
    assert same["text"] == SAMPLES["en"]  # nothing to do: the model is not asked


def test_unsupported_pairs_and_unclear_text_get_a_code(client: httpx.Client) -> None:
    headers = bearer(signup(client)["access_token"])
    cases = [
        ({"text": "Hello", "from": "en", "to": "ja"}, "TRANSLATE_UNSUPPORTED_PAIR"),
        ({"text": "Hello", "from": "xx", "to": "en"}, "TRANSLATE_UNSUPPORTED_PAIR"),
        ({"text": "ok", "to": "de"}, "TRANSLATE_UNSURE_LANGUAGE"),
    ]
    for body, code in cases:
        response = client.post("/v1/translate", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    assert client.post("/v1/translate", json={"text": "x" * 2001, "to": "en"}, headers=headers).status_code == 422
    assert client.post("/v1/translate", json={"text": "Hello", "to": "de"}).status_code == 401
