"""Access tokens whose signature was checked once are kept (cloud/common/tokens.py: AccessTokens):
checked once, still refused the moment they expire, and no forged token rides on a kept one.
Revocation is the authorization check's, on every request (tests/cloud/test_adversarial_auth.py)."""

from __future__ import annotations

import time

import jwt
import pytest

from cloud.common.errors import Unauthorized
from cloud.common.tokens import AccessTokens, Principal, issue_access

KEY = "k" * 48


def test_a_kept_token_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_access(KEY, Principal("u1", "d1", frozenset({"chat"})), 900)
    calls = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: calls.append(1) or real_decode(*a, **kw))
    tokens = AccessTokens(KEY)
    read = [tokens.read(token) for _ in range(3)]
    assert read == [Principal("u1", "d1", frozenset({"chat"}))] * 3
    assert len(calls) == 1


def test_a_kept_token_expires_when_its_exp_says() -> None:
    token = issue_access(KEY, Principal("u1"), 60)
    exp = jwt.decode(token, KEY, algorithms=["HS256"])["exp"]
    now = [time.time()]
    tokens = AccessTokens(KEY, clock=lambda: now[0])
    assert tokens.read(token).user_id == "u1"
    now[0] = exp - 0.5
    assert tokens.read(token).user_id == "u1"
    now[0] = exp  # PyJWT's rule: expired once now >= exp
    with pytest.raises(Unauthorized) as refused:
        tokens.read(token)
    assert refused.value.code == "TOKEN_EXPIRED"


def test_a_forged_token_is_refused_though_the_genuine_one_is_kept() -> None:
    genuine = issue_access(KEY, Principal("u1"), 900)
    tokens = AccessTokens(KEY)
    tokens.read(genuine)
    header, payload, signature = genuine.split(".")
    forged = jwt.encode(jwt.decode(genuine, KEY, algorithms=["HS256"]) | {"sub": "u2"}, "wrong" * 10)
    for bad in (forged, f"{header}.{payload}.{signature[:-2]}AA", genuine + "x"):
        with pytest.raises(Unauthorized) as refused:
            tokens.read(bad)
        assert refused.value.code == "TOKEN_INVALID", bad


def test_at_most_kept_tokens_are_held() -> None:
    tokens = AccessTokens(KEY, kept=2)
    for user in ("a", "b", "c"):
        tokens.read(issue_access(KEY, Principal(user), 900))
    assert [p.user_id for p, _ in tokens._checked.values()] == ["b", "c"]
