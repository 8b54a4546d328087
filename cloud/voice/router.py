"""/v1/voice: speech to text from a WAV body, and text to speech as a WAV reply, with the hub's
engines. Audio length is checked from the WAV header before anything is decoded."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cloud.common.auth import require
from cloud.common.errors import ApiError
from cloud.common.tokens import Principal
from cloud.common.worker import ModelWorker
from cloud.voice.workers import speak

router = APIRouter(prefix="/v1/voice", tags=["voice"])
Speaker = Annotated[Principal, Depends(require("voice"))]
# The WAV types, and octet-stream for clients that label any binary upload so; the bytes must be WAV.
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream")
WAV_SCHEMA = {"schema": {"type": "string", "format": "binary"}}
WAV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {kind: WAV_SCHEMA for kind in WAV_TYPES}}}
MAX_TEXT = 1000


class Transcript(BaseModel):
    text: str
    language: str
    duration_s: float  # of the audio sent
    sample_rate: int  # of the audio sent; it is resampled to 16 kHz for the model
    channels: int
    compute_ms: float  # the model's own time, without queueing


class SpeechRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    voice: str | None = Field(None, max_length=64, description="a voice id from the registry; the default if left out")


def _bad_audio(err: Exception) -> ApiError:
    return ApiError(
        str(getattr(err, "message", err)),
        code="VOICE_BAD_AUDIO",
        status=422,
        hint="send 16-bit PCM WAV (any rate, mono or stereo) as the body",
    )


@router.post(
    "/stt", response_model=Transcript, openapi_extra=WAV_BODY, summary="Transcribe speech: a WAV file as the body"
)
async def speech_to_text(request: Request, _: Speaker) -> Transcript:
    from models.audio import AudioError, decode_wav, wav_info

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in WAV_TYPES:
        raise ApiError(
            f"'{kind or 'no content type'}' is not an accepted audio type",
            code="VOICE_UNSUPPORTED_TYPE",
            status=415,
            hint="send a WAV file as the body with Content-Type audio/wav",
        )
    settings = request.app.state.settings
    data = await request.body()
    if len(data) > settings.voice_max_bytes:
        raise ApiError(f"audio is limited to {settings.voice_max_bytes} bytes", code="PAYLOAD_TOO_LARGE", status=413)
    try:
        info = wav_info(data)
    except AudioError as err:
        raise _bad_audio(err) from err
    if info.duration_s > settings.voice_max_audio_s:
        raise ApiError(
            f"{info.duration_s:.1f} s of audio is over the limit of {settings.voice_max_audio_s:g} s",
            code="VOICE_AUDIO_TOO_LONG",
            status=413,
            hint="send one utterance at a time",
        )

    def run(stt: Any) -> Any:
        try:
            audio = decode_wav(data, info)
        except AudioError as err:
            raise _bad_audio(err) from err
        return stt.transcribe(audio)

    worker: ModelWorker[Any] = request.app.state.voice_stt
    result = await worker.run(run)
    return Transcript(
        text=result.text,
        language=result.language,
        duration_s=round(info.duration_s, 3),
        sample_rate=info.rate,
        channels=info.channels,
        compute_ms=round(1000 * result.compute_s, 1),
    )


@router.post(
    "/tts",
    response_class=Response,
    summary="Speak text: a 16-bit PCM WAV reply",
    responses={200: {"content": {"audio/wav": WAV_SCHEMA}, "description": "mono 16-bit PCM WAV"}},
)
async def text_to_speech(body: SpeechRequest, request: Request, _: Speaker) -> Response:
    voices: list[str] = request.app.state.settings.voice_tts_voices
    voice = body.voice or voices[0]
    if voice not in voices:
        raise ApiError(
            f"no voice '{voice}' here", code="VOICE_UNKNOWN_VOICE", status=422, hint=f"voices: {', '.join(voices)}"
        )
    text = "".join(ch if ch.isprintable() else " " for ch in body.text)  # no control characters to espeak
    if not any(ch.isalnum() for ch in text):
        raise ApiError("there is nothing to say in this text", code="VOICE_NOTHING_TO_SAY", status=422)
    started = time.perf_counter()
    worker: ModelWorker[Any] = request.app.state.voice_tts
    wav, rate, seconds = await worker.run(speak(request.app, voice, text))
    headers = {
        "X-Voice": voice,
        "X-Sample-Rate": str(rate),
        "X-Duration-S": f"{seconds:.3f}",
        "X-Compute-Ms": f"{1000 * (time.perf_counter() - started):.1f}",
    }
    return Response(wav, media_type="audio/wav", headers=headers)
