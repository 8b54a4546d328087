"""translation: text between English, German, French, Spanish, Italian and Portuguese through the
LLM gateway, with language detection (py3langid, whose model ships in the package).

No offline translation model could be had from the package registries: Argos Translate's models
come from its own index, not PyPI. The gateway can front a stronger model (vLLM) at scale.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from cloud.chat import start_gateway, stop_gateway
from cloud.chat.schemas import ChatCompletionRequest, Message
from cloud.common.auth import require
from cloud.common.errors import ApiError
from cloud.common.service import Service
from cloud.common.tokens import Principal

router = APIRouter(prefix="/v1/translate", tags=["translation"])
Translator = Annotated[Principal, Depends(require("chat"))]
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese"}
MIN_CONFIDENCE = 0.5


@functools.cache
def _identifier() -> Any:
    import py3langid.langid as langid

    ident = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(sorted(LANGUAGES))
    return ident


def detect(text: str) -> tuple[str, float]:
    language, confidence = _identifier().classify(text)
    return str(language), round(float(confidence), 4)


class DetectRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class TranslateRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    to: str = Field(min_length=2, max_length=8, description="ISO 639-1: en, de, fr, es, it, pt")
    source: str | None = Field(None, alias="from", min_length=2, max_length=8, description="detected if left out")


class Translation(BaseModel):
    text: str
    source: str
    to: str
    detected: bool
    confidence: float | None = None


@router.post("/detect", summary="Which of the supported languages a text is in")
async def detect_language(body: DetectRequest, _: Translator) -> dict[str, Any]:
    language, confidence = detect(body.text)
    return {"language": language, "confidence": confidence, "sure": confidence >= MIN_CONFIDENCE}


@router.post("", response_model=Translation, summary="Translate text between supported languages")
async def translate(body: TranslateRequest, request: Request, _: Translator) -> Translation:
    to = body.to.lower()
    source, confidence, detected = (body.source or "").lower(), None, body.source is None
    if detected:
        source, confidence = detect(body.text)
        if confidence < MIN_CONFIDENCE:
            raise ApiError(
                "the text's language is unclear",
                code="TRANSLATE_UNSURE_LANGUAGE",
                status=422,
                hint="say which language it is in with 'from'",
            )
    if source not in LANGUAGES or to not in LANGUAGES:
        raise ApiError(
            f"{source} -> {to} is not a supported pair",
            code="TRANSLATE_UNSUPPORTED_PAIR",
            status=422,
            hint=f"languages: {', '.join(sorted(LANGUAGES))}",
        )
    if source == to:
        return Translation(text=body.text, source=source, to=to, detected=detected, confidence=confidence)
    prompt = f"Translate the user's text from {LANGUAGES[source]} to {LANGUAGES[to]}. Reply with the translation only."
    chat = ChatCompletionRequest(
        messages=[Message(role="system", content=prompt), Message(role="user", content=body.text)],
        max_tokens=min(512, 2 * len(body.text) // 3 + 32),
        temperature=0.0,
    )
    text, _, _ = await request.app.state.gateway.complete(chat)
    return Translation(text=str(text).strip(), source=source, to=to, detected=detected, confidence=confidence)


service = Service("translation", router, start_gateway, stop_gateway)
