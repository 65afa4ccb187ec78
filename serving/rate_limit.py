"""Messages per minute, per conversation and per client address, in one Rasa process.

Rasa handles every turn on one event loop: a client that sends messages as fast as it
can into one conversation (or opens conversation after conversation) makes every other
user wait. The REST channel (serving/channel.py) asks `Limits.refusal()` before a
message is parsed or stored; a refused message gets HTTP 429 with Retry-After and the
polite `utter_too_many_messages`, and leaves nothing behind.

Sliding window of the last 60 seconds, counted in memory. Behind the load balancer
each Rasa server counts what it sees, so N servers allow up to N times the limit
(nginx spreads one client's messages over them): still bounded.

Settings (environment, messages per minute; 0 switches a limit off):
  EGOV_RATE_PER_CONVERSATION  default 30: a person clicking 「次へ」 through a procedure
                              sends a few a minute; 30 leaves room for bursts
  EGOV_RATE_PER_ADDRESS       default 300: many people behind one office address
  EGOV_TRUSTED_PROXIES        default "127.0.0.1 ::1": requests from these addresses
                              are counted by the first address of X-Forwarded-For
                              (the load balancer of `make run SERVERS=N` sets it)
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
MAX_TRACKED_KEYS = 100_000  # the oldest idle keys are forgotten first; memory stays bounded


class SlidingWindow:
    """At most `limit` counted hits per key in any WINDOW_SECONDS."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self.limit, self.clock, self.max_keys = limit, clock, max_keys
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str) -> int | None:
        """None when one more hit is allowed now, else the seconds until it would be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        self._forget_idle(now)
        hits = self.hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - WINDOW_SECONDS:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + WINDOW_SECONDS - now))
        return None

    def count(self, key: str) -> None:
        if self.limit <= 0:
            return
        self.hits.setdefault(key, deque()).append(self.clock())
        self.hits.move_to_end(key)

    def _forget_idle(self, now: float) -> None:
        while self.hits:
            key, hits = next(iter(self.hits.items()))
            if len(self.hits) <= self.max_keys and hits and hits[-1] > now - WINDOW_SECONDS:
                break
            del self.hits[key]


@dataclass
class Refusal:
    scope: str  # "conversation" or "address"
    retry_after: int


class Limits:
    def __init__(self, per_conversation: int, per_address: int, trusted_proxies: frozenset[str]) -> None:
        self.conversations = SlidingWindow(per_conversation)
        self.addresses = SlidingWindow(per_address)
        self.trusted_proxies = trusted_proxies

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        def number(name: str, default: int) -> int:
            value = environ.get(name, "").strip()
            if not value:
                return default
            if not value.isdigit():
                raise ValueError(f"{name} must be a whole number of messages per minute (0 = no limit), not {value!r}")
            return int(value)

        proxies = frozenset(environ.get("EGOV_TRUSTED_PROXIES", "127.0.0.1 ::1").split())
        return cls(number("EGOV_RATE_PER_CONVERSATION", 30), number("EGOV_RATE_PER_ADDRESS", 300), proxies)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """The address to count: the peer's, or the forwarded one when the peer is a trusted proxy."""
        if forwarded_for and peer in self.trusted_proxies:
            first = forwarded_for.split(",")[0].strip()
            if first:
                return first
        return peer

    def refusal(self, sender: str, address: str) -> Refusal | None:
        """Says why and for how long this message is refused, or counts it (a refused
        message counts against nothing)."""
        for scope, window, key in (("address", self.addresses, address), ("conversation", self.conversations, sender)):
            wait = window.wait(key)
            if wait is not None:
                return Refusal(scope, wait)
        self.addresses.count(address)
        self.conversations.count(sender)
        return None
