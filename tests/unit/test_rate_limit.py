"""serving/rate_limit.py: per-conversation and per-address windows on a fake clock."""

from __future__ import annotations

import pytest

from serving.rate_limit import WINDOW_SECONDS, Limits, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def take(window: SlidingWindow, key: str) -> int | None:
    wait = window.wait(key)
    if wait is None:
        window.count(key)
    return wait


def test_the_limit_holds_in_any_window_and_the_wait_is_until_the_oldest_expires():
    clock = Clock()
    window = SlidingWindow(3, clock)
    for _ in range(3):
        assert take(window, "a") is None
        clock.now += 10
    assert take(window, "a") == WINDOW_SECONDS - 30  # the first hit leaves the window in 30 s
    assert take(window, "b") is None  # other keys are not affected
    clock.now += 30
    assert take(window, "a") is None


def test_refused_hits_are_not_counted():
    clock = Clock()
    window = SlidingWindow(1, clock)
    assert take(window, "a") is None
    for _ in range(50):
        assert take(window, "a") is not None
        clock.now += 1
    clock.now += WINDOW_SECONDS - 50
    assert take(window, "a") is None  # fifty refusals did not push the window on


def test_zero_means_no_limit():
    window = SlidingWindow(0, Clock())
    assert all(take(window, "a") is None for _ in range(1000))
    assert not window.hits


def test_memory_stays_bounded_idle_keys_are_forgotten_first():
    clock = Clock()
    window = SlidingWindow(5, clock, max_keys=100)
    for n in range(1000):
        take(window, f"k{n}")
    assert len(window.hits) <= 101
    clock.now += WINDOW_SECONDS + 1
    take(window, "new")
    assert list(window.hits) == ["new"]


def test_a_refused_conversation_message_uses_up_nothing_of_the_address():
    limits = Limits(per_conversation=2, per_address=3, trusted_proxies=frozenset())
    assert limits.refusal("c1", "a") is None
    assert limits.refusal("c1", "a") is None
    refused = limits.refusal("c1", "a")
    assert refused is not None and refused.scope == "conversation" and 1 <= refused.retry_after <= WINDOW_SECONDS
    assert limits.refusal("c2", "a") is None  # the address had two, this is its third
    assert limits.refusal("c3", "a").scope == "address"


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy():
    limits = Limits(30, 300, trusted_proxies=frozenset({"127.0.0.1"}))
    assert limits.client_address("127.0.0.1", "203.0.113.7, 10.0.0.1") == "203.0.113.7"
    assert limits.client_address("198.51.100.1", "203.0.113.7") == "198.51.100.1"  # anyone can write the header
    assert limits.client_address("127.0.0.1", None) == "127.0.0.1"
    assert limits.client_address("127.0.0.1", " ") == "127.0.0.1"


def test_settings_come_from_the_environment_and_are_checked():
    limits = Limits.from_environment({"EGOV_RATE_PER_CONVERSATION": "5", "EGOV_RATE_PER_ADDRESS": "0", "EGOV_TRUSTED_PROXIES": "10.0.0.2"})
    assert (limits.conversations.limit, limits.addresses.limit, limits.trusted_proxies) == (5, 0, frozenset({"10.0.0.2"}))
    defaults = Limits.from_environment({})
    assert (defaults.conversations.limit, defaults.addresses.limit) == (30, 300)
    with pytest.raises(ValueError, match="EGOV_RATE_PER_ADDRESS must be a whole number"):
        Limits.from_environment({"EGOV_RATE_PER_ADDRESS": "lots"})
