"""The one in-process sliding window (common.ratelimit) that the hub and the cloud both count with."""

from __future__ import annotations

from common.ratelimit import SlidingWindows


def test_a_window_admits_its_limit_then_says_when_a_slot_frees() -> None:
    now = [100.0]
    windows = SlidingWindows(clock=lambda: now[0])
    assert [windows.hit("a", 2, 10.0)[0] for _ in range(3)] == [True, True, False]
    now[0] = 104.0
    assert windows.hit("a", 2, 10.0) == (False, 6.0)
    assert windows.hit("b", 2, 10.0) == (True, 0.0)  # keys count apart
    now[0] = 110.0  # the first hits are a whole window old: out
    assert windows.hit("a", 2, 10.0) == (True, 0.0)


def test_with_max_keys_the_least_recently_seen_are_forgotten() -> None:
    windows = SlidingWindows(max_keys=2)
    for key in ("a", "b", "a", "c"):
        windows.hit(key, 5, 60.0)
    assert list(windows.seen) == ["a", "c"]
