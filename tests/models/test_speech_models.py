"""Real models on real synthesized speech, from two independent voices."""

from __future__ import annotations

import re

import jiwer
import numpy as np
import pytest

from tests.speech import Voices, join, silence

COMMANDS = [
    "what time is it",
    "set a timer for ten minutes",
    "how much time is left",
    "cancel the timer",
    "what is the date today",
    "turn on the kitchen light",
    "please stop",
]
_NUM = {"10": "ten", "5": "five", "2": "two", "1": "one", "20": "twenty", "30": "thirty"}


def words(text: str) -> str:
    tokens = re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()
    return " ".join(_NUM.get(t, t) for t in tokens)


@pytest.mark.parametrize(("voice", "max_wer"), [("piper", 0.05), ("espeak", 0.20)])
def test_whisper_word_error_rate(engines, voices: Voices, voice: str, max_wer: float) -> None:  # type: ignore[no-untyped-def]
    refs, hyps = [], []
    for text in COMMANDS:
        refs.append(words(text))
        hyps.append(words(engines.stt.transcribe(voices.say(voice, text)).text))
    wer = jiwer.wer(refs, hyps)
    assert wer <= max_wer, list(zip(refs, hyps, strict=True))


def _wake_hits(engines, audio: np.ndarray) -> list[str]:  # type: ignore[no-untyped-def]
    engines.wake.reset()
    pcm = (audio * 32767).astype(np.int16)
    hits = []
    for i in range(0, len(pcm) - 1280 + 1, 1280):
        det = engines.wake.process(pcm[i : i + 1280])
        if det is not None:
            hits.append(det.name)
    return hits


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_wake_word_fires_once_on_the_wake_phrase(engines, voices: Voices, voice: str) -> None:  # type: ignore[no-untyped-def]
    for phrase in ("hey jarvis", "hey jarvis, what time is it?"):
        audio = join(silence(1.0), voices.say(voice, phrase), silence(1.0))
        assert _wake_hits(engines, audio) == ["hey_jarvis"], phrase


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_wake_word_stays_silent_on_other_speech(engines, voices: Voices, voice: str) -> None:  # type: ignore[no-untyped-def]
    others = [
        "what time is it",
        "set a timer for ten minutes",
        "the weather is nice today",
        "hey there, how are you",
        "turn off the lights in the living room",
        "I would like a cup of coffee please",
    ]
    audio = join(*[join(voices.say(voice, t), silence(0.5)) for t in others])
    assert _wake_hits(engines, audio) == []


def test_wake_word_silent_on_noise(engines) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(16000 * 20) * 0.05).astype(np.float32)
    assert _wake_hits(engines, noise) == []


def test_other_wake_words_load_from_the_registry(registry, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    from models.wake import OpenWakeWord

    alexa = OpenWakeWord(registry, ("alexa",), threshold=0.5)
    pcm = (join(silence(1.0), voices.piper("Alexa."), silence(1.0)) * 32767).astype(np.int16)
    names = [d.name for i in range(0, len(pcm) - 1279, 1280) if (d := alexa.process(pcm[i : i + 1280]))]
    assert names == ["alexa"]


def test_piper_streams_one_chunk_per_sentence(engines) -> None:  # type: ignore[no-untyped-def]
    chunks = list(engines.tts.synthesize("It is late. The timer is done. Goodbye."))
    assert len(chunks) == 3
    assert all(c.dtype == np.float32 and len(c) > 0.2 * engines.tts.sample_rate for c in chunks)
    assert engines.tts.last_first_audio_s > 0
    assert list(engines.tts.synthesize("   ")) == []


def test_vad_separates_speech_from_silence(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    speech = voices.piper("This is a sentence with plenty of voiced sound in it.")
    engines.vad.reset()
    probs = [
        engines.vad.probability(np.ascontiguousarray(speech[i : i + 512])) for i in range(0, len(speech) - 511, 512)
    ]
    engines.vad.reset()
    quiet = [engines.vad.probability(np.zeros(512, np.float32)) for _ in range(30)]
    assert np.mean(np.array(probs) > 0.5) > 0.5
    assert max(quiet) < 0.2


def test_vosk_engine_with_a_grammar_on_the_korean_model(registry, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    from models.stt import VoskSTT

    phrases = ["안녕하세요", "감사합니다", "네", "아니요"]  # hello, thank you, yes, no
    stt = VoskSTT(registry, "stt-vosk-ko", language="ko", grammar=phrases)
    for phrase in ("안녕하세요", "감사합니다", "아니요"):
        assert stt.transcribe(voices.espeak(phrase, voice="ko", speed=130)).text == phrase
    free = VoskSTT(registry, "stt-vosk-ko", language="ko")  # open vocabulary still decodes
    assert free.transcribe(voices.espeak("안녕하세요", voice="ko", speed=130)).text


def test_a_short_reply_said_again_is_replayed_not_synthesized(registry) -> None:  # type: ignore[no-untyped-def]
    from models.tts import PiperTTS

    tts = PiperTTS(registry)  # its own cache: the shared engine's would count other tests' replies
    first = tts.synthesize_all("Turned on the Kitchen Light.")
    calls = tts.metrics.calls
    again = tts.synthesize_all("Turned on the Kitchen Light.")
    assert tts.cache_hits == 1 and tts.metrics.calls == calls  # the model did not run again
    assert np.array_equal(first, again) and len(first) > tts.sample_rate // 2
    long = "This reply is long enough that nobody says it twice, so the hub does not keep its audio around."
    tts.synthesize_all(long)
    tts.synthesize_all(long)
    assert tts.cache_hits == 1  # long texts are synthesized each time
    cut = tts.synthesize("Turned off the Hallway Switch. Then something else entirely.")
    next(cut)
    cut.close()  # interrupted after its first sentence: what was not finished is not kept
    tts.synthesize_all("Turned off the Hallway Switch. Then something else entirely.")
    assert tts.cache_hits == 1
